package apiserver

import (
	"fmt"
	"net/http"
	"os"
	"runtime"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Bootstrap endpoints (cloud.BootstrapCAPath, cloud.BootstrapAgentPath): a
// cloud machine's user data fetches the CA (and trusts it only if its hash
// is the one the user data carries) and then the agent binary over TLS
// with that CA. Neither is secret, and the machine has no credentials yet,
// so both are served without authentication.

func (s *Server) bootstrapCA(w http.ResponseWriter, r *http.Request) {
	if s.pki == nil || len(s.pki.CACertPEM) == 0 {
		http.Error(w, "this server has no cluster CA to serve", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.pki.CACertPEM)
}

func (s *Server) bootstrapAgent(w http.ResponseWriter, r *http.Request) {
	goos, arch := r.PathValue("os"), r.PathValue("arch")
	if s.agentBinary == "" {
		http.Error(w, "this server serves no agent binary", http.StatusNotFound)
		return
	}
	if goos != runtime.GOOS || arch != runtime.GOARCH {
		http.Error(w, fmt.Sprintf("no agent for %s/%s: this server serves its own binary, %s/%s",
			goos, arch, runtime.GOOS, runtime.GOARCH), http.StatusNotFound)
		return
	}
	f, err := os.Open(s.agentBinary)
	if err != nil {
		s.log.Error("cannot serve the agent binary", "path", s.agentBinary, "err", err)
		http.Error(w, "the agent binary cannot be read", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "the agent binary cannot be read", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "maestro", st.ModTime(), f)
}

func (s *Server) routeBootstrap() {
	s.mux.HandleFunc("GET "+cloud.BootstrapCAPath, s.bootstrapCA)
	s.mux.HandleFunc("GET "+cloud.BootstrapAgentPath+"{os}/{arch}", s.bootstrapAgent)
}
