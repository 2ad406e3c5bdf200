package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/flowcontrol"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	metricsstore "github.com/maestro-dev/maestro/engine/metrics"
)

// DefaultMaxRequestBytes is Config.MaxRequestBytes' default.
const DefaultMaxRequestBytes = 3 << 20

// Config assembles a Server.
type Config struct {
	Registry *registry.Registry
	Tokens   *auth.Tokens
	Log      *slog.Logger
	// MaxRequestBytes bounds request bodies (413 beyond).
	MaxRequestBytes int64
	// Limits bound what one client can take of the server: seats per
	// priority level and identity (429 beyond), open watches, deadlines.
	Limits Limits
	// Metrics is where request metrics are registered and /metrics reads;
	// nil uses a private registry.
	Metrics *prometheus.Registry
	Version string
	// Ready reports whether the server may take traffic (for /readyz).
	Ready func(ctx context.Context) error
	// PKI signs the serving certificates of joining agents and gives the
	// credentials to reach them (logs, stats). Nil disables both.
	PKI *pki.Bundle
	// ClusterInfo is served at GET /v1/cluster-info (the cluster domain
	// defaults to api.DefaultClusterDomain).
	ClusterInfo api.ClusterInfo
	// NodeCredentialTTL is the lifetime of the token and serving
	// certificate a node gets by joining or renewing (default
	// DefaultNodeCredentialTTL).
	NodeCredentialTTL time.Duration
	// Maintenance takes backups and rotates the encryption key for admins
	// (GET /v1/backup, POST /v1/encryption/rotate-key); nil answers 501.
	Maintenance Maintenance
	// AgentBinary is the maestro binary served to bootstrapping cloud
	// machines (cloud.BootstrapAgentPath); empty serves none.
	AgentBinary string
	// MetricsInterval is how often agents report usage (default
	// metrics.DefaultInterval); a node silent for 3 intervals is forgotten.
	MetricsInterval time.Duration
}

// Server is the HTTP handler of the API.
type Server struct {
	reg      *registry.Registry
	tokens   *auth.Tokens
	authz    *auth.Authorizer
	log      *slog.Logger
	maxBody  int64
	flow     *flowcontrol.Controller
	metrics  *metrics
	gatherer *prometheus.Registry
	version  string
	ready    func(ctx context.Context) error
	mux      *http.ServeMux
	cluster  api.ClusterInfo

	pki         *pki.Bundle
	agentClient *http.Client
	admissions  *auth.Admissions
	nodeTTL     time.Duration
	maintenance Maintenance
	agentBinary string
	// usage keeps the agents' last usage reports, in memory only.
	usage *metricsstore.Store

	limits            Limits
	unavailableLogged atomic.Int64 // unix nanos of the last "store unavailable" log
}

// New builds the API server handler.
func New(cfg Config) *Server {
	s := &Server{
		reg:         cfg.Registry,
		tokens:      cfg.Tokens,
		log:         cfg.Log,
		maxBody:     cfg.MaxRequestBytes,
		version:     cfg.Version,
		ready:       cfg.Ready,
		cluster:     cfg.ClusterInfo,
		nodeTTL:     cfg.NodeCredentialTTL,
		maintenance: cfg.Maintenance,
		agentBinary: cfg.AgentBinary,
		usage:       metricsstore.NewStore(cfg.MetricsInterval),
	}
	if s.nodeTTL <= 0 {
		s.nodeTTL = DefaultNodeCredentialTTL
	}
	s.admissions = auth.NewAdmissions(cfg.Registry.Store())
	if s.cluster.ClusterDomain == "" {
		s.cluster.ClusterDomain = api.DefaultClusterDomain
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxRequestBytes
	}
	s.limits = cfg.Limits.WithDefaults()
	s.gatherer = cfg.Metrics
	if s.gatherer == nil {
		s.gatherer = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.gatherer)
	s.flow = flowcontrol.New(s.limits.flowControl(), s.gatherer)
	s.authz = &auth.Authorizer{Pods: podLookup{s.reg}, Volumes: volumeLookup{s.reg}}
	if cfg.PKI != nil {
		s.pki = cfg.PKI
		c, err := newAgentClient(cfg.PKI)
		if err != nil {
			s.log.Error("cannot build the client for agents: logs and stats are unavailable", "err", err)
		}
		s.agentClient = c
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /version", s.versionHandler)
	s.routeBootstrap()
	s.mux.Handle("GET /metrics", s.authenticated(s.metricsHandler()))
	s.mux.Handle("POST /v1/join", s.authenticated(http.HandlerFunc(s.join)))
	s.mux.Handle("POST /v1/join/renew", s.authenticated(http.HandlerFunc(s.renew)))
	s.mux.Handle("GET /v1/cluster-info", s.authenticated(http.HandlerFunc(s.clusterInfo)))
	s.mux.Handle("/v1/tokens", s.authenticated(http.HandlerFunc(s.tokensHandler)))
	s.mux.Handle("/v1/tokens/{id}", s.authenticated(http.HandlerFunc(s.tokensHandler)))
	s.mux.Handle("GET /v1/backup", s.authenticated(http.HandlerFunc(s.backup)))
	s.mux.Handle("POST /v1/encryption/rotate-key", s.authenticated(http.HandlerFunc(s.rotateKey)))
	s.routeUsage()
	s.mux.Handle("/v1/", s.authenticated(http.HandlerFunc(s.objects)))
	return s
}

// Handler is the root handler with recovery and metrics around every request.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.code == 0 {
					s.writeError(rec, r, fmt.Errorf("panic: %v", p))
				}
			}
			s.metrics.observe(r, rec.code, time.Since(start))
		}()
		s.mux.ServeHTTP(rec, r)
	})
}

type userKey struct{}

// authenticated requires a valid bearer token and runs the request within
// the caller's priority level (see limited).
func (s *Server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			s.writeError(w, r, api.NewStatusError(http.StatusUnauthorized, api.ReasonUnauthorized,
				"missing bearer token: send \"Authorization: Bearer <token>\" (the client config written by `maestro server` has one)"))
			return
		}
		u, err := s.tokens.Authenticate(r.Context(), strings.TrimSpace(token))
		if err == auth.ErrInvalidToken {
			s.writeError(w, r, api.NewStatusError(http.StatusUnauthorized, api.ReasonUnauthorized, "%v", err))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.limited(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)), u, next)
	})
}

func userFrom(ctx context.Context) auth.User {
	u, _ := ctx.Value(userKey{}).(auth.User)
	return u
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	s.healthz(w, r)
}

func (s *Server) versionHandler(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": s.version, "apiVersion": api.APIVersion})
}

// clusterInfo describes the service network to any authenticated caller:
// agents need the DNS address and service range for their pods and proxy.
func (s *Server) clusterInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cluster)
}

func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := userFrom(r.Context()); u.Role != auth.RoleAdmin && u.Role != auth.RoleViewer {
			s.writeError(w, r, api.NewForbidden("role %s may not read metrics", u.Role))
			return
		}
		h.ServeHTTP(w, r)
	})
}
