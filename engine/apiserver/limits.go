package apiserver

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/flowcontrol"
)

// Limits bound what one client can take of the server. Zero values take
// the defaults (DefaultLimits).
type Limits struct {
	// Seats of each priority level (requests running at once), and how
	// many of them one identity may hold at the node and workload levels.
	SystemSeats, NodeSeats, WorkloadSeats, SeatsPerIdentity int
	// QueueLength is how many requests of one identity may wait for a
	// seat, QueueWait how long each waits before a 429.
	QueueLength int
	QueueWait   time.Duration
	// WatchesPerIdentity bounds the open watches and followed logs of one
	// identity (the system level is exempt).
	WatchesPerIdentity int
	// HeaderTimeout bounds reading a request's headers (the HTTP server
	// applies it); BodyTimeout reading its body, done before the request
	// takes a seat (408 beyond); RequestTimeout writing its answer
	// (watches and followed logs excepted), so a client that does not
	// read gives its seat back.
	HeaderTimeout, BodyTimeout, RequestTimeout time.Duration
}

// DefaultLimits are the limits of a server not told otherwise.
func DefaultLimits() Limits {
	return Limits{
		SystemSeats: flowcontrol.DefaultSystemSeats, NodeSeats: flowcontrol.DefaultNodeSeats,
		WorkloadSeats: flowcontrol.DefaultWorkloadSeats, SeatsPerIdentity: flowcontrol.DefaultSeatsPerIdentity,
		QueueLength: flowcontrol.DefaultQueueLength, QueueWait: flowcontrol.DefaultQueueWait,
		WatchesPerIdentity: flowcontrol.DefaultMaxLongRunningPerIdentity,
		HeaderTimeout:      10 * time.Second, BodyTimeout: 10 * time.Second, RequestTimeout: 60 * time.Second,
	}
}

// WithDefaults fills zero values from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	return Limits{
		SystemSeats: cmp.Or(l.SystemSeats, d.SystemSeats), NodeSeats: cmp.Or(l.NodeSeats, d.NodeSeats),
		WorkloadSeats: cmp.Or(l.WorkloadSeats, d.WorkloadSeats), SeatsPerIdentity: cmp.Or(l.SeatsPerIdentity, d.SeatsPerIdentity),
		QueueLength: cmp.Or(l.QueueLength, d.QueueLength), QueueWait: cmp.Or(l.QueueWait, d.QueueWait),
		WatchesPerIdentity: cmp.Or(l.WatchesPerIdentity, d.WatchesPerIdentity),
		HeaderTimeout:      cmp.Or(l.HeaderTimeout, d.HeaderTimeout), BodyTimeout: cmp.Or(l.BodyTimeout, d.BodyTimeout),
		RequestTimeout: cmp.Or(l.RequestTimeout, d.RequestTimeout),
	}
}

func (l Limits) flowControl() flowcontrol.Config {
	level := func(seats, perIdentity int) flowcontrol.LevelConfig {
		return flowcontrol.LevelConfig{Seats: seats, PerIdentity: perIdentity, QueueLength: l.QueueLength, QueueWait: l.QueueWait}
	}
	return flowcontrol.Config{
		Levels: map[flowcontrol.Level]flowcontrol.LevelConfig{
			flowcontrol.System:   level(l.SystemSeats, 0),
			flowcontrol.Node:     level(l.NodeSeats, l.SeatsPerIdentity),
			flowcontrol.Workload: level(l.WorkloadSeats, l.SeatsPerIdentity),
		},
		MaxLongRunningPerIdentity: l.WatchesPerIdentity,
	}
}

// limited runs next within the caller's priority level: a long-running
// request (a watch, a followed log) counts against its identity's limit
// and takes no seat; any other request has its body read first, under a
// deadline, and then waits for a seat (429 with Retry-After when none
// frees up), and its answer must be written within the request timeout.
func (s *Server) limited(w http.ResponseWriter, r *http.Request, u auth.User, next http.Handler) {
	lvl := priorityOf(u)
	if isLongRunning(r) {
		release, err := s.flow.AcquireLongRunning(lvl, u.Name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
		return
	}
	if err := s.readBody(w, r); err != nil {
		s.writeError(w, r, err)
		return
	}
	release, err := s.flow.Acquire(r.Context(), lvl, u.Name)
	if errors.Is(err, context.Canceled) {
		return // the client left while waiting
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	rc := http.NewResponseController(w)
	if rc.SetWriteDeadline(time.Now().Add(s.limits.RequestTimeout)) == nil {
		// An HTTP/1.1 connection keeps the deadline for its next
		// request, which may be a watch.
		defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	}
	next.ServeHTTP(w, r)
}

// priorityOf puts the control plane's own components, then agents and
// joining machines, ahead of everyone else.
func priorityOf(u auth.User) flowcontrol.Level {
	switch {
	case u.System:
		return flowcontrol.System
	case u.Role == auth.RoleNode || u.Role == auth.RoleJoin:
		return flowcontrol.Node
	}
	return flowcontrol.Workload
}

// isLongRunning reports a real watch (a GET of a collection with a true
// watch parameter) or a followed pod log. Anything else, whatever its
// parameters say, is an ordinary request.
func isLongRunning(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	info, err := parsePath(r.URL.Path)
	if err != nil {
		return false
	}
	q := r.URL.Query()
	return isWatch(r, info) || info.Kind.Kind == "Pod" && info.Subresource == "log" && truthy(q.Get("follow"))
}

// isWatch reports a GET of a collection with a true watch parameter.
func isWatch(r *http.Request, info requestInfo) bool {
	return r.Method == http.MethodGet && info.Name == "" && truthy(r.URL.Query().Get("watch"))
}

// truthy reads a boolean query parameter: set, and not "0" or "false".
func truthy(v string) bool { return v != "" && v != "0" && v != "false" }

// readBody reads the whole request body before the request takes a seat,
// so a client that sends slowly holds a connection, never a seat. A body
// that does not arrive within the body timeout gets 408.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.limits.BodyTimeout)) == nil {
		defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return api.NewStatusError(http.StatusRequestEntityTooLarge, api.ReasonRequestEntityTooLarge,
			"request body is larger than the limit of %d bytes", tooLarge.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		return api.NewStatusError(http.StatusRequestTimeout, api.ReasonRequestTimeout,
			"the request body did not arrive within %s: send the whole body at once", s.limits.BodyTimeout)
	case err != nil:
		return api.NewBadRequest("reading request body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}
