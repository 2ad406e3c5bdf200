package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
)

// newAgentClient is how the API server reaches agents: over HTTPS only,
// trusting only the node CA, presenting a client certificate agents check.
// Requests name the node as the URL's host, so the agent's certificate is
// verified for the node's name (no other node's certificate passes), and
// the dialer connects to the address the request's context carries (one
// the node was admitted with; see agentTarget), never to a name resolved
// or an address the node wrote.
func newAgentClient(b *pki.Bundle) (*http.Client, error) {
	cert, err := b.APIServerClientCertificate(time.Now())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(b.NodeCA)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				t, ok := ctx.Value(agentDialKey{}).(agentTarget)
				if !ok || net.JoinHostPort(t.node, t.port) != addr {
					return nil, fmt.Errorf("no admitted address to dial for %s", addr)
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort(t.ip, t.port))
			},
			TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
		// An agent never redirects; following one would leave the checks behind.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// agentTarget is where the server reaches a node's agent.
type agentTarget struct {
	node, ip, port string
}

type agentDialKey struct{}

// base is the URL requests to the agent start with.
func (t agentTarget) base() string { return "https://" + net.JoinHostPort(t.node, t.port) }

// podSubresource serves a pod's log and stats from the agent of its node.
func (s *Server) podSubresource(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbGet, Kind: info.Kind, Namespace: info.Namespace,
		Name: info.Name, Subresource: info.Subresource}); err != nil {
		s.writeError(w, r, err)
		return
	}
	obj, err := s.reg.Get(r.Context(), podKind, info.Namespace, info.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pod := obj.(*api.Pod)
	agent, err := s.agentEndpoint(r.Context(), pod)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	endpoint := agent.base()
	q := r.URL.Query()
	var target string
	switch info.Subresource {
	case "log":
		container := q.Get("container")
		if container == "" {
			if len(pod.Spec.Containers) != 1 {
				names := make([]string, len(pod.Spec.Containers))
				for i, c := range pod.Spec.Containers {
					names[i] = c.Name
				}
				s.writeError(w, r, api.NewBadRequest("pod %q has %d containers: name one with ?container= (one of %s)",
					pod.Name, len(names), strings.Join(names, ", ")))
				return
			}
			container = pod.Spec.Containers[0].Name
		}
		fwd := url.Values{}
		for _, k := range []string{"follow", "tailLines", "timestamps", "previous"} {
			if v := q.Get(k); v != "" {
				fwd.Set(k, v)
			}
		}
		target = fmt.Sprintf("%s/logs/%s/%s/%s?%s", endpoint, url.PathEscape(pod.Namespace), url.PathEscape(pod.Name), url.PathEscape(container), fwd.Encode())
	case "stats":
		target = fmt.Sprintf("%s/stats/%s/%s", endpoint, url.PathEscape(pod.Namespace), url.PathEscape(pod.Name))
	}
	s.proxyToAgent(w, r.WithContext(context.WithValue(r.Context(), agentDialKey{}, agent)), pod.Spec.NodeName, target)
}

// agentEndpoint is where the server may reach the agent of a pod's node:
// the port the node reports, at an address it was admitted with when it
// joined (recorded by the server, where the node cannot write it).
func (s *Server) agentEndpoint(ctx context.Context, pod *api.Pod) (agentTarget, error) {
	node := pod.Spec.NodeName
	if node == "" {
		return agentTarget{}, api.NewBadRequest("pod %q is not running on a node yet (it is not scheduled)", pod.Name)
	}
	obj, err := s.reg.Get(ctx, nodeKind, "", node)
	if api.IsNotFound(err) {
		return agentTarget{}, api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable, "node %q of pod %q no longer exists", node, pod.Name)
	}
	if err != nil {
		return agentTarget{}, err
	}
	ep := obj.(*api.Node).Status.DaemonEndpoint
	if ep == "" {
		return agentTarget{}, api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable,
			"node %q has no agent endpoint (simulated node, or an agent that has not registered one)", node)
	}
	adm, _, found, err := s.admissions.Get(ctx, node)
	if err != nil {
		return agentTarget{}, err
	}
	if !found {
		return agentTarget{}, badAgentEndpoint(node, ep, "the node has no admission record (it joined before this server "+
			"recorded them; its agent records one when it renews its credentials, at its next start)")
	}
	return admittedTarget(node, ep, adm.Addresses)
}

// admittedTarget checks a node's reported endpoint: https, an IP address
// the node was admitted with, a port, nothing else.
func admittedTarget(node, endpoint string, admitted []string) (agentTarget, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return agentTarget{}, badAgentEndpoint(node, endpoint, "it is not a URL")
	}
	if u.Scheme != "https" {
		return agentTarget{}, badAgentEndpoint(node, endpoint, "agents are reached over https only")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return agentTarget{}, badAgentEndpoint(node, endpoint, "it must be https://<address>:<port> and nothing more")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 {
		return agentTarget{}, badAgentEndpoint(node, endpoint, "it has no valid port")
	}
	ip := net.ParseIP(u.Hostname())
	for _, a := range admitted {
		if ip != nil && ip.Equal(net.ParseIP(a)) {
			return agentTarget{node: node, ip: a, port: strconv.Itoa(port)}, nil
		}
	}
	return agentTarget{}, badAgentEndpoint(node, endpoint, fmt.Sprintf("%s is not an address the node was admitted with (%s)",
		u.Hostname(), strings.Join(admitted, ", ")))
}

func badAgentEndpoint(node, endpoint, why string) error {
	return api.NewStatusError(http.StatusBadGateway, api.ReasonServiceUnavailable,
		"node %q reports its agent at %q, where this server will not reach it: %s", node, endpoint, why)
}

// proxyToAgent streams the agent's answer, flushing as it comes (follow).
func (s *Server) proxyToAgent(w http.ResponseWriter, r *http.Request, node, target string) {
	if s.agentClient == nil {
		s.writeError(w, r, api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable, "this server cannot reach agents"))
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.agentClient.Do(req)
	if err != nil {
		s.writeError(w, r, api.NewStatusError(http.StatusBadGateway, api.ReasonServiceUnavailable, "cannot reach the agent of node %q: %v", node, err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		// The agent answers errors in plain text: give the client an API error.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		reason := api.ReasonInternalError
		switch resp.StatusCode {
		case http.StatusNotFound:
			reason = api.ReasonNotFound
		case http.StatusBadRequest:
			reason = api.ReasonBadRequest
		case http.StatusForbidden:
			reason = api.ReasonForbidden
		}
		s.writeError(w, r, api.NewStatusError(resp.StatusCode, reason, "node %s: %s", node, strings.TrimSpace(string(msg))))
		return
	}
	for _, h := range []string{"Content-Type"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err == io.EOF || err != nil {
			return
		}
	}
}
