package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
)

// newAgentClient is how the API server reaches agents: it trusts only the
// node CA and presents a client certificate agents check.
func newAgentClient(b *pki.Bundle) (*http.Client, error) {
	cert, err := b.APIServerClientCertificate(time.Now())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(b.NodeCA)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 4,
	}}, nil
}

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
	endpoint, err := s.agentEndpoint(r.Context(), pod)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
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
	s.proxyToAgent(w, r, pod.Spec.NodeName, target)
}

func (s *Server) agentEndpoint(ctx context.Context, pod *api.Pod) (string, error) {
	if pod.Spec.NodeName == "" {
		return "", api.NewBadRequest("pod %q is not running on a node yet (it is not scheduled)", pod.Name)
	}
	obj, err := s.reg.Get(ctx, nodeKind, "", pod.Spec.NodeName)
	if api.IsNotFound(err) {
		return "", api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable, "node %q of pod %q no longer exists", pod.Spec.NodeName, pod.Name)
	}
	if err != nil {
		return "", err
	}
	ep := obj.(*api.Node).Status.DaemonEndpoint
	if ep == "" {
		return "", api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable,
			"node %q has no agent endpoint (simulated node, or an agent that has not registered one)", pod.Spec.NodeName)
	}
	return ep, nil
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
