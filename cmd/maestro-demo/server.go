package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Limits that keep a careless request from taking the demo down.
const (
	maxBurnSeconds  = 3600
	maxBurnCores    = 256
	maxFileBytes    = 64 << 20
	maxCallBytes    = 16 << 20
	upstreamTimeout = 3 * time.Second
	exitGrace       = 100 * time.Millisecond // lets the answer to /exit leave first
)

// server holds the state the endpoints change. The zero values of
// unhealthy and unready are a healthy, ready server.
type server struct {
	ctx       context.Context // ends the CPU burners when the process stops
	identity  string          // the answer of GET /
	logger    *log.Logger
	exit      func(code int)
	environ   func() []string
	client    *http.Client
	upstream  string        // GET / appends its answer ("": none)
	upstreams *http.Client  // fetches upstream, with a shorter timeout than client
	visits    *visitCounter // nil: GET / counts nothing
	unhealthy atomic.Bool
	unready   atomic.Bool
	burning   atomic.Int32 // CPU burners running
}

func newServer(ctx context.Context, cfg config, logger *log.Logger, exit func(int)) *server {
	identity := fmt.Sprintf("pod=%s namespace=%s version=%s host=%s",
		cfg.podName, cfg.namespace, cfg.version, cfg.hostname)
	if cfg.nodeName != "" {
		identity += " node=" + cfg.nodeName
	}
	// Each call opens its own connection, as a new client would, so
	// calls through a service spread over its endpoints.
	transport := &http.Transport{DisableKeepAlives: true}
	s := &server{
		ctx:       ctx,
		identity:  identity,
		logger:    logger,
		exit:      exit,
		environ:   os.Environ,
		client:    &http.Client{Timeout: 10 * time.Second, Transport: transport},
		upstream:  cfg.upstream,
		upstreams: &http.Client{Timeout: upstreamTimeout, Transport: transport},
	}
	if cfg.counterFile != "" {
		s.visits = &visitCounter{path: cfg.counterFile}
	}
	return s
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.identify)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /fail-health", s.setFlag(&s.unhealthy, true, "health checks now fail"))
	mux.HandleFunc("POST /recover-health", s.setFlag(&s.unhealthy, false, "health checks now pass"))
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("POST /unready", s.setFlag(&s.unready, true, "now not ready"))
	mux.HandleFunc("POST /ready", s.setFlag(&s.unready, false, "now ready"))
	mux.HandleFunc("POST /burn", s.burn)
	mux.HandleFunc("GET /env", s.env)
	mux.HandleFunc("GET /file", s.readFile)
	mux.HandleFunc("POST /file", s.writeFile)
	mux.HandleFunc("POST /exit", s.exitHandler)
	mux.HandleFunc("GET /call", s.call)
	mux.HandleFunc("GET /whoami", s.whoami)
	mux.HandleFunc("GET /udp", s.udpCall)
	return s.logRequests(mux)
}

func text(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, format+"\n", args...)
}

// identify answers with the identity line (plus the visit count with
// --counter-file) and, with --upstream, the upstream's answer under it.
func (s *server) identify(w http.ResponseWriter, r *http.Request) {
	line := s.identity
	if s.visits != nil {
		n, err := s.visits.increment()
		if err != nil {
			s.logger.Printf("counting the visit: %v", err)
			text(w, http.StatusInternalServerError, "%s\ncounting the visit: %v", line, err)
			return
		}
		line += fmt.Sprintf(" visits=%d", n)
	}
	if s.upstream == "" {
		text(w, http.StatusOK, "%s", line)
		return
	}
	answer, err := s.fetchUpstream(r.Context())
	if err != nil {
		text(w, http.StatusBadGateway, "%s\n%s", line, indentUnder(err.Error()))
		return
	}
	text(w, http.StatusOK, "%s\n%s", line, indentUnder(answer))
}

// fetchUpstream GETs --upstream on a fresh connection and returns its
// answer; an unreachable upstream, or one answering anything but 200, is
// an error that names the URL (with the upstream's own answer as a branch
// under it, so a failure deep in a chain is seen from its top).
func (s *server) fetchUpstream(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upstream, nil)
	if err != nil {
		return "", fmt.Errorf("upstream %s: %w", s.upstream, err)
	}
	resp, err := s.upstreams.Do(req)
	if err != nil {
		return "", fmt.Errorf("upstream %s failed: %w", s.upstream, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCallBytes))
	if err != nil {
		return "", fmt.Errorf("upstream %s failed: reading its answer: %w", s.upstream, err)
	}
	answer := strings.TrimRight(string(body), "\n")
	if resp.StatusCode != http.StatusOK && answer == "" {
		return "", fmt.Errorf("upstream %s failed: %s", s.upstream, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("upstream %s failed: %s\n%s", s.upstream, resp.Status, indentUnder(answer))
	}
	return answer, nil
}

// indentUnder turns an answer into a branch of the caller's answer: its
// first line under "  -> ", every other line indented to match, so the
// answers of a chain of calls nest as a tree.
func indentUnder(answer string) string {
	lines := strings.Split(answer, "\n")
	for i, l := range lines {
		if i == 0 {
			lines[i] = "  -> " + l
		} else {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// isHTTPURL reports whether raw is an absolute http:// or https:// URL.
func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	if s.unhealthy.Load() {
		text(w, http.StatusInternalServerError, "unhealthy")
		return
	}
	text(w, http.StatusOK, "ok")
}

func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.unready.Load() {
		text(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	text(w, http.StatusOK, "ready")
}

func (s *server) setFlag(flag *atomic.Bool, value bool, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		flag.Store(value)
		s.logger.Print(msg)
		text(w, http.StatusOK, "%s", msg)
	}
}

// burn starts cores goroutines that spin for seconds (fractions allowed)
// and answers 202 at once.
func (s *server) burn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	seconds, err := strconv.ParseFloat(q.Get("seconds"), 64)
	if err != nil || seconds <= 0 || seconds > maxBurnSeconds {
		text(w, http.StatusBadRequest, "seconds must be a number in (0, %d]", maxBurnSeconds)
		return
	}
	cores := 1
	if c := q.Get("cores"); c != "" {
		if cores, err = strconv.Atoi(c); err != nil || cores < 1 || cores > maxBurnCores {
			text(w, http.StatusBadRequest, "cores must be an integer in [1, %d]", maxBurnCores)
			return
		}
	}
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for range cores {
		s.burning.Add(1)
		go func() {
			defer s.burning.Add(-1)
			spin(s.ctx, deadline)
		}()
	}
	s.logger.Printf("burning %d cores for %gs", cores, seconds)
	text(w, http.StatusAccepted, "burning %d cores for %gs", cores, seconds)
}

// spin keeps one core busy until deadline or until ctx ends.
func spin(ctx context.Context, deadline time.Time) {
	x := uint64(1)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for range 100_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink.Store(x) // the loop must not be optimized away
}

var sink atomic.Uint64

func (s *server) env(w http.ResponseWriter, _ *http.Request) {
	vars := slices.Clone(s.environ())
	slices.Sort(vars)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, kv := range vars {
		io.WriteString(w, kv+"\n")
	}
}

func (s *server) readFile(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	if path == "" {
		text(w, http.StatusBadRequest, "path is required")
		return
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		text(w, http.StatusNotFound, "%s: no such file", path)
		return
	case err != nil:
		text(w, http.StatusInternalServerError, "reading %s: %v", path, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

func (s *server) writeFile(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Query().Get("path")
	if path == "" {
		text(w, http.StatusBadRequest, "path is required")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFileBytes))
	if err != nil {
		text(w, http.StatusRequestEntityTooLarge, "reading the body: %v", err)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		text(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		text(w, http.StatusInternalServerError, "%v", err)
		return
	}
	text(w, http.StatusOK, "wrote %d bytes to %s", len(data), path)
}

// exitHandler answers, makes sure the answer left, and exits a moment
// later (after the request's log line).
func (s *server) exitHandler(w http.ResponseWriter, r *http.Request) {
	code := 0
	if c := r.URL.Query().Get("code"); c != "" {
		var err error
		if code, err = strconv.Atoi(c); err != nil || code < 0 || code > 255 {
			text(w, http.StatusBadRequest, "code must be an integer in [0, 255]")
			return
		}
	}
	w.Header().Set("Connection", "close")
	text(w, http.StatusOK, "exiting with code %d", code)
	_ = http.NewResponseController(w).Flush()
	s.logger.Printf("exiting with code %d (POST /exit)", code)
	time.AfterFunc(exitGrace, func() { s.exit(code) })
}

// call fetches url and answers with the upstream's status code and body
// (the status is also in the Maestro-Upstream-Status header); 502 when
// the upstream could not be reached.
func (s *server) call(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	if !isHTTPURL(target) {
		text(w, http.StatusBadRequest, "url must be an http:// or https:// URL, got %q", target)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
	if err != nil {
		text(w, http.StatusBadRequest, "%v", err)
		return
	}
	resp, err := s.client.Do(req)
	if err != nil {
		text(w, http.StatusBadGateway, "call failed: %v", err)
		return
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Maestro-Upstream-Status", strconv.Itoa(resp.StatusCode))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxCallBytes))
}

// logRequests writes one line per request to the log (stdout), so the
// container's logs show what it served.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.logger.Printf("%s %s %d remote=%s duration=%s", r.Method, r.URL.RequestURI(), rec.status,
			r.RemoteAddr, time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the real writer (Flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
