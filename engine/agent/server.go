package agent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// serve starts the agent's HTTPS endpoint for container logs and usage.
// Only the API server may call it: clients must present a certificate
// from the cluster CA naming the API server.
func (a *Agent) serve(ctx context.Context) (*http.Server, error) {
	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{a.cfg.ServingCert},
		ClientCAs:    a.cfg.ClusterCA,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}
	if c := a.cfg.Credentials; c != nil {
		_, pool, err := c.TLS()
		if err != nil {
			return nil, err
		}
		// Renewed certificates are served from the next handshake on.
		tlsConfig.Certificates, tlsConfig.GetCertificate, tlsConfig.ClientCAs = nil, c.GetCertificate, pool
	}
	if tlsConfig.GetCertificate == nil && len(a.cfg.ServingCert.Certificate) == 0 || tlsConfig.ClientCAs == nil {
		a.log.Warn("no serving certificate: logs and stats of this node's pods are unavailable")
		return &http.Server{}, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.Address, strconv.Itoa(a.cfg.ServerPort)))
	if err != nil {
		return nil, err
	}
	a.listenAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /logs/{ns}/{pod}/{container}", a.onlyAPIServer(a.serveLogs))
	mux.Handle("GET /stats/{ns}/{pod}", a.onlyAPIServer(a.serveStats))
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("agent server failed", "err", err)
		}
	}()
	return srv, nil
}

func (a *Agent) endpoint() string {
	if a.listenAddr == "" {
		return ""
	}
	return "https://" + a.listenAddr
}

func (a *Agent) onlyAPIServer(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != pki.APIServerClientName {
			http.Error(w, "only the API server may read logs and stats here", http.StatusForbidden)
			return
		}
		h(w, r)
	})
}

// podContainers finds a pod of this node and its runtime containers.
func (a *Agent) podContainers(r *http.Request) (*api.Pod, []runtime.Container, error) {
	pod, ok := a.pods.Get(api.Key(r.PathValue("ns"), r.PathValue("pod")))
	if !ok {
		return nil, nil, errNoPod
	}
	cs, err := a.rt.ListContainers(r.Context(), a.filter(pod.UID))
	return pod, cs, err
}

var errNoPod = errors.New("no such pod on this node")

func (a *Agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	_, cs, err := a.podContainers(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	name := r.PathValue("container")
	q := r.URL.Query()
	c := latest(cs, name)
	if q.Get("previous") == "true" {
		c = previous(cs, name, c)
	}
	if c == nil {
		http.Error(w, "container "+name+" has not started (or has no previous run)", http.StatusNotFound)
		return
	}
	opts := runtime.LogOptions{Follow: q.Get("follow") == "true", Timestamps: q.Get("timestamps") == "true"}
	if n, err := strconv.ParseInt(q.Get("tailLines"), 10, 64); err == nil && n > 0 {
		opts.TailLines = n
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.rt.Logs(r.Context(), c.ID, opts, flushWriter{w}); err != nil && r.Context().Err() == nil {
		a.log.Debug("serving logs failed", "container", c.ID, "err", err)
	}
}

func (a *Agent) serveStats(w http.ResponseWriter, r *http.Request) {
	pod, cs, err := a.podContainers(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	out := api.PodStats{Timestamp: time.Now().UTC()}
	for _, c := range pod.Spec.Containers {
		if cur := latest(cs, c.Name); cur != nil && cur.State == runtime.ContainerRunning {
			u := a.stats.get(cur.ID)
			out.Containers = append(out.Containers, api.ContainerStats{Name: c.Name, CPUMilli: u.cpuMilli, MemoryBytes: u.memory})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// flushWriter flushes after every write, so followed logs stream.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}
