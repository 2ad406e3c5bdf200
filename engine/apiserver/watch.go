package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
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
	opts, err := parseListOptions(info.Kind, r.URL.Query(), true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sel := opts.Selectors
	node, _ := sel.Fields.Value(registry.NodeField(info.Kind))
	if err := s.authorize(r.Context(), auth.Request{Verb: auth.VerbWatch, Kind: info.Kind, Namespace: info.Namespace, NodeName: node}); err != nil {
		s.writeError(w, r, err)
		return
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = minWatchTimeout + rand.N(maxWatchTimeout-minWatchTimeout)
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	wa, err := s.reg.Watch(ctx, info.Kind, info.Namespace, opts.ResourceVersion, sel)
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
	s.streamEvents(w, r, wa, info.Kind)
}

// watchWriteBuffer is how much of a watch stream is gathered into one
// write while events are queued.
const watchWriteBuffer = 32 << 10

// streamEvents writes the watch's events until it ends, then an ERROR event
// if it failed. A burst (the initial objects of a watch from revision 0,
// or changes queued while the client read) goes out in large writes; the
// stream is flushed whenever nothing else is queued.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, wa *registry.Watch, kind *api.KindInfo) {
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, watchWriteBuffer)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	if flush() != nil {
		return
	}
	var line []byte
	for {
		ev, ok := wa.Next()
		if !ok {
			break
		}
		obj, err := ev.JSON()
		if err != nil {
			s.log.Error("encoding watch event", "kind", kind.Kind, "err", err)
			return
		}
		if line, err = writeEvent(bw, line, ev.Type, obj); err != nil {
			return // the client went away
		}
		if !wa.Pending() && flush() != nil {
			return
		}
	}
	if err := wa.Err(); err != nil {
		status, _ := json.Marshal(s.statusOf(r, err).Status)
		_ = json.NewEncoder(bw).Encode(api.WatchEvent{Type: api.WatchError, Object: status})
		_ = flush()
	}
}

// writeEvent writes one line of a watch stream, byte for byte what
// json.Encoder writes for an api.WatchEvent, around the object's shared
// encoding: the object is neither copied nor scanned again per watcher.
// buf is scratch space, returned for reuse.
func writeEvent(w io.Writer, buf []byte, typ string, obj []byte) ([]byte, error) {
	buf = append(append(append(buf[:0], `{"type":"`...), typ...), `","object":`...)
	if _, err := w.Write(buf); err != nil {
		return buf, err
	}
	if _, err := w.Write(obj); err != nil {
		return buf, err
	}
	_, err := io.WriteString(w, "}\n")
	return buf, err
}
