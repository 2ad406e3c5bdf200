package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/flowcontrol"
	"github.com/maestro-dev/maestro/engine/store"
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(api.NewInternal(err).Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// retryAfterUnavailable is what a 503 tells clients to wait, in seconds.
const retryAfterUnavailable = 2

// writeError answers with an API error; anything else becomes a 500 whose
// cause is logged (the message still says what failed), except the store's
// "unavailable" (503 with Retry-After) and "too large" (413).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := s.statusOf(r, err)
	if d := se.Status.Details; d != nil && d.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds))
	}
	writeJSON(w, se.Status.Code, se.Status)
}

// statusOf maps an error onto the API error a client gets.
func (s *Server) statusOf(r *http.Request, err error) *api.StatusError {
	var se *api.StatusError
	var rej *flowcontrol.Rejection
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &rej):
		se = api.NewStatusError(http.StatusTooManyRequests, api.ReasonTooManyRequests, "%s (priority level %s)", rej.Error(), rej.Level)
		se.Status.Details = &api.StatusDetails{RetryAfterSeconds: max(1, int(rej.RetryAfter.Round(time.Second)/time.Second))}
		return se
	case errors.Is(err, store.ErrUnavailable):
		// Once per interval: an outage must not flood the log.
		if now := time.Now().UnixNano(); now-s.unavailableLogged.Load() > int64(10*time.Second) {
			s.unavailableLogged.Store(now)
			s.log.Warn("store unavailable: answering 503", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		se = api.NewStatusError(http.StatusServiceUnavailable, api.ReasonServiceUnavailable,
			"the store (etcd) is unavailable: %v; retry shortly", err)
		se.Status.Details = &api.StatusDetails{RetryAfterSeconds: retryAfterUnavailable}
		return se
	case errors.Is(err, store.ErrTooLarge):
		return api.NewStatusError(http.StatusRequestEntityTooLarge, api.ReasonRequestEntityTooLarge,
			"the store refused the object as too large: %v", err)
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return api.NewInternal(err)
}

// statusRecorder remembers the response code for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets watches stream through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
