package apiserver

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// Watches end after a randomized time so clients spread back across
// servers; the client resumes from its last resourceVersion.
const (
	minWatchTimeout = 5 * time.Minute
	maxWatchTimeout = 10 * time.Minute
)

// watch streams events as newline-delimited JSON until the client leaves,
// the timeout passes, or the watch fails (then a final ERROR event says why).
func (s *Server) watch(w http.ResponseWriter, r *http.Request, info requestInfo) {
	sel, err := parseSelectors(r, info.Kind)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	node, _ := sel.Fields.Value(registry.NodeField(info.Kind))
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbWatch, Kind: info.Kind, Namespace: info.Namespace, NodeName: node}); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	var from int64
	if v := q.Get("resourceVersion"); v != "" {
		if from, err = strconv.ParseInt(v, 10, 64); err != nil || from < 0 {
			s.writeError(w, r, api.NewBadRequest("resourceVersion %q: must be a non-negative integer", v))
			return
		}
	}
	timeout := minWatchTimeout + rand.N(maxWatchTimeout-minWatchTimeout)
	if v := q.Get("timeoutSeconds"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 1 {
			s.writeError(w, r, api.NewBadRequest("timeoutSeconds %q: must be a positive integer", v))
			return
		}
		timeout = time.Duration(secs) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	wa, err := s.reg.Watch(ctx, info.Kind, info.Namespace, from, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer wa.Stop()
	s.metrics.watchers.WithLabelValues(info.Kind.Plural).Inc()
	defer s.metrics.watchers.WithLabelValues(info.Kind.Plural).Dec()

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	for ev := range wa.Events() {
		obj, err := ev.JSON()
		if err != nil {
			s.log.Error("encoding watch event", "kind", info.Kind.Kind, "err", err)
			return
		}
		if err := enc.Encode(api.WatchEvent{Type: ev.Type, Object: obj}); err != nil {
			return // the client went away
		}
		// Flush only when nothing else is queued, so bursts go out in
		// fewer writes.
		if len(wa.Events()) == 0 {
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
	if err := wa.Err(); err != nil {
		status, _ := json.Marshal(s.statusOf(r, err).Status)
		_ = enc.Encode(api.WatchEvent{Type: api.WatchError, Object: status})
		_ = rc.Flush()
	}
}
