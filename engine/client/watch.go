package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Event is one change delivered by a watch.
type Event[T api.Object] struct {
	Type   string // api.WatchAdded, WatchModified, WatchDeleted
	Object T
}

// Watcher delivers events until stopped, its context ends, or it fails.
type Watcher[T api.Object] struct {
	events chan Event[T]
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Events is closed when the watch ends; Err then says why.
func (w *Watcher[T]) Events() <-chan Event[T] { return w.events }

// Err is nil when the watch was stopped or its context ended; an
// api.IsExpired error means the start revision was compacted: list again.
func (w *Watcher[T]) Err() error {
	<-w.done
	return w.err
}

// Stop ends the watch and waits for it to finish.
func (w *Watcher[T]) Stop() {
	w.cancel()
	<-w.done
}

// Watch streams changes after opts.ResourceVersion (or the current objects
// first, as ADDED, when it is 0). When a stream breaks or times out, it
// reconnects from the last revision it delivered, so no event is lost or
// repeated; it ends on a compacted revision (api.IsExpired), a refused
// request (4xx), or when ctx ends.
func (r Resource[T]) Watch(ctx context.Context, opts ListOptions) (*Watcher[T], error) {
	ctx, cancel := context.WithCancel(ctx)
	body, err := r.openWatch(ctx, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	w := &Watcher[T]{events: make(chan Event[T], 64), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, r, opts, body)
	return w, nil
}

func (r Resource[T]) openWatch(ctx context.Context, opts ListOptions) (*http.Response, error) {
	q := opts.query()
	q.Set("watch", "1")
	q.Set("resourceVersion", strconv.FormatInt(opts.ResourceVersion, 10))
	if opts.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.Itoa(opts.TimeoutSeconds))
	}
	return r.c.send(ctx, "GET", r.collectionPath(r.namespace), q, nil)
}

func (w *Watcher[T]) run(ctx context.Context, r Resource[T], opts ListOptions, resp *http.Response) {
	defer close(w.done)
	defer close(w.events)
	backoff := 100 * time.Millisecond
	for {
		last, err := w.stream(ctx, r, resp, opts.ResourceVersion == 0)
		if last > opts.ResourceVersion {
			opts.ResourceVersion = last
			backoff = 100 * time.Millisecond
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil && isTerminal(err) {
			w.err = err
			return
		}
		// The stream ended (timeout, server restart, network): resume.
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
			resp, err = r.openWatch(ctx, opts)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			if isTerminal(err) {
				w.err = err
				return
			}
		}
	}
}

// stream reads one response and returns the last revision delivered.
// The initial ADDED objects of a watch from revision 0 come in key order,
// not revision order, so they do not move the resume point; the bookmark
// after them does. A stream that breaks before it starts over.
func (w *Watcher[T]) stream(ctx context.Context, r Resource[T], resp *http.Response, initial bool) (int64, error) {
	defer resp.Body.Close()
	var last int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		ev, err := decodeWatchLine(sc.Bytes())
		if err != nil {
			return last, fmt.Errorf("decoding watch event: %w", err)
		}
		if ev.Type == api.WatchError {
			var st api.Status
			if err := json.Unmarshal(ev.Object, &st); err != nil {
				return last, fmt.Errorf("decoding watch error: %w", err)
			}
			return last, &api.StatusError{Status: st}
		}
		obj := r.newObj()
		if err := json.Unmarshal(ev.Object, obj); err != nil {
			return last, fmt.Errorf("decoding %s in watch event: %w", r.kind.Kind, err)
		}
		if ev.Type == api.WatchBookmark {
			// End of the initial objects of a watch from revision 0.
			initial = false
			last = obj.GetObjectMeta().ResourceVersion
			continue
		}
		select {
		case w.events <- Event[T]{Type: ev.Type, Object: obj}:
		case <-ctx.Done():
			return last, ctx.Err()
		}
		if !initial {
			last = obj.GetObjectMeta().ResourceVersion
		}
	}
	return last, sc.Err()
}

// isTerminal reports errors a reconnect cannot fix.
func isTerminal(err error) bool {
	var se *api.StatusError
	if errors.As(err, &se) {
		c := se.Status.Code
		return c >= 400 && c < 500 && c != http.StatusTooManyRequests
	}
	return false
}

// decodeWatchLine splits a line `{"type":"ADDED","object":{...}}` as the
// server writes it without scanning the object twice (decoding into a
// json.RawMessage validates it in full, and the object is decoded after);
// anything else takes the general path.
func decodeWatchLine(line []byte) (api.WatchEvent, error) {
	const prefix, middle = `{"type":"`, `","object":`
	if rest, ok := bytes.CutPrefix(line, []byte(prefix)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 {
			if obj, ok := bytes.CutPrefix(rest[i:], []byte(middle)); ok && len(obj) > 1 && obj[len(obj)-1] == '}' {
				return api.WatchEvent{Type: string(rest[:i]), Object: obj[:len(obj)-1]}, nil
			}
		}
	}
	var ev api.WatchEvent
	err := json.Unmarshal(line, &ev)
	return ev, err
}
