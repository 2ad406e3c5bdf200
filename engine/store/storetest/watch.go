package storetest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

// eventTimeout bounds the wait for one expected event.
const eventTimeout = 10 * time.Second

func mustWatch(t *testing.T, ctx context.Context, s store.Store, prefix string, from int64) store.Watcher {
	t.Helper()
	w, err := s.Watch(ctx, prefix, from)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, from, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// next returns the watcher's next event.
func next(t *testing.T, w store.Watcher) store.Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended early: %v", w.Err())
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no event within %s", eventTimeout)
	}
	panic("unreachable")
}

// quiet checks that the watcher delivers nothing for a moment.
func quiet(t *testing.T, w store.Watcher) {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if ok {
			t.Fatalf("unexpected event %s %s at %d", ev.Type, ev.KV.Key, ev.KV.ModRevision)
		}
		t.Fatalf("watch ended: %v", w.Err())
	case <-time.After(200 * time.Millisecond):
	}
}

// ended waits for the watcher's channel to close, discarding what is left.
func ended(t *testing.T, w store.Watcher) {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-w.Events():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("watch channel not closed within %s", eventTimeout)
		}
	}
}

type wantEvent struct {
	typ        store.EventType
	key, value string
	prev       string // "" = no previous value
	createRev  int64
	modRev     int64
}

func checkEvent(t *testing.T, got store.Event, want wantEvent) {
	t.Helper()
	if got.Type != want.typ || got.KV.Key != want.key || string(got.KV.Value) != want.value ||
		string(got.PrevValue) != want.prev || got.KV.CreateRevision != want.createRev ||
		got.KV.ModRevision != want.modRev {
		t.Fatalf("event %s %s=%q prev=%q create=%d mod=%d; want %s %s=%q prev=%q create=%d mod=%d",
			got.Type, got.KV.Key, got.KV.Value, got.PrevValue, got.KV.CreateRevision, got.KV.ModRevision,
			want.typ, want.key, want.value, want.prev, want.createRev, want.modRev)
	}
	if want.typ == store.EventCreated && got.PrevValue != nil {
		t.Fatalf("created event has PrevValue %q", got.PrevValue)
	}
}

func testWatchEvents(t *testing.T, newStore func(*testing.T) store.Store) {
	for _, mode := range []string{"live", "replay"} {
		t.Run(mode, func(t *testing.T) {
			s := newStore(t)
			ctx := ctxFor(t)
			from := mustRevision(t, s)
			var w store.Watcher
			if mode == "live" {
				w = mustWatch(t, ctx, s, "/w/", from)
			}
			r1 := mustCreate(t, s, "/w/a", "1")
			mustCreate(t, s, "/x/a", "outside")
			r2 := mustUpdate(t, s, "/w/a", "2", r1)
			r3 := mustCreate(t, s, "/w/b", "b")
			del, err := s.Delete(ctx, "/w/a", r2)
			if err != nil {
				t.Fatal(err)
			}
			r5 := mustCreate(t, s, "/w/a", "3")
			if mode == "replay" {
				w = mustWatch(t, ctx, s, "/w/", from)
			}
			want := []wantEvent{
				{typ: store.EventCreated, key: "/w/a", value: "1", createRev: r1, modRev: r1},
				{typ: store.EventUpdated, key: "/w/a", value: "2", prev: "1", createRev: r1, modRev: r2},
				{typ: store.EventCreated, key: "/w/b", value: "b", createRev: r3, modRev: r3},
				{typ: store.EventDeleted, key: "/w/a", value: "2", prev: "2", createRev: r1, modRev: del.ModRevision},
				{typ: store.EventCreated, key: "/w/a", value: "3", createRev: r5, modRev: r5},
			}
			for _, we := range want {
				checkEvent(t, next(t, w), we)
			}
			quiet(t, w)

			// A watch from the latest revision sees only what comes next.
			w2 := mustWatch(t, ctx, s, "/w/", mustRevision(t, s))
			r6 := mustUpdate(t, s, "/w/b", "b2", r3)
			checkEvent(t, next(t, w2), wantEvent{typ: store.EventUpdated, key: "/w/b", value: "b2", prev: "b", createRev: r3, modRev: r6})
			quiet(t, w2)
		})
	}
}

func testWatchPrefix(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	w := mustWatch(t, ctx, s, "/w/a/", mustRevision(t, s))
	mustCreate(t, s, "/w/a", "parent")
	mustCreate(t, s, "/w/ab/1", "sibling")
	rev := mustCreate(t, s, "/w/a/1", "child")
	checkEvent(t, next(t, w), wantEvent{typ: store.EventCreated, key: "/w/a/1", value: "child", createRev: rev, modRev: rev})
	quiet(t, w)
}

func testWatchResume(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	from := mustRevision(t, s)
	var revs []int64 // revisions of the writes under /r/
	write := func(i int) {
		// Writes outside the prefix interleave, so that the revisions under
		// it are not contiguous.
		mustCreate(t, s, fmt.Sprintf("/elsewhere/%d", i), "x")
		revs = append(revs, mustCreate(t, s, fmt.Sprintf("/r/%02d", i), "x"))
	}
	for i := range 10 {
		write(i)
	}

	w := mustWatch(t, ctx, s, "/r/", from)
	var seen []int64
	for range 4 {
		seen = append(seen, next(t, w).KV.ModRevision)
	}
	w.Stop()
	ended(t, w)

	for i := 10; i < 15; i++ {
		write(i)
	}
	w = mustWatch(t, ctx, s, "/r/", seen[len(seen)-1])
	for len(seen) < len(revs) {
		seen = append(seen, next(t, w).KV.ModRevision)
	}
	quiet(t, w)
	if fmt.Sprint(seen) != fmt.Sprint(revs) {
		t.Fatalf("revisions seen across the resume %v, want %v", seen, revs)
	}
}

func testWatchCompacted(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	r1 := mustCreate(t, s, "/c/k", "v1")
	r2 := mustUpdate(t, s, "/c/k", "v2", r1)
	r3 := mustUpdate(t, s, "/c/k", "v3", r2)
	if err := s.Compact(ctx, r3); err != nil {
		t.Fatalf("Compact(%d): %v", r3, err)
	}
	// Compacting again to the same or an older revision is harmless.
	if err := s.Compact(ctx, r2); err != nil {
		t.Fatalf("Compact(%d) after Compact(%d): %v", r2, r3, err)
	}

	for _, from := range []int64{0, r1, r3 - 2} {
		w, err := s.Watch(ctx, "/c/", from)
		if err == nil {
			// Allowed by the contract: the failure may come with the first
			// response rather than from Watch itself.
			ended(t, w)
			err = w.Err()
		}
		wantErr(t, fmt.Sprintf("Watch from %d after Compact(%d)", from, r3), err, store.ErrCompacted)
	}

	// Revision r3 itself is kept: a watch from just before it works.
	w := mustWatch(t, ctx, s, "/c/", r3-1)
	ev := next(t, w)
	if ev.Type != store.EventUpdated || string(ev.KV.Value) != "v3" || ev.KV.ModRevision != r3 {
		t.Fatalf("watch from %d: got %s %q at %d, want the update to v3 at %d", r3-1, ev.Type, ev.KV.Value, ev.KV.ModRevision, r3)
	}
}

func testWatchFuture(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	cur := mustRevision(t, s)
	w, err := s.Watch(ctx, "/f/", cur+1000)
	if err != nil {
		wantErr(t, "Watch from a future revision", err, store.ErrFuture)
		return
	}
	// Also allowed: a watch that waits for the future revision.
	mustCreate(t, s, "/f/k", "x")
	quiet(t, w)
	w.Stop()
}

func testWatchStop(t *testing.T, newStore func(*testing.T) store.Store) {
	tests := []struct {
		name string
		// read says whether the test reads the first event before stopping.
		read bool
		stop func(w store.Watcher, cancel context.CancelFunc)
	}{
		{name: "Stop", read: true, stop: func(w store.Watcher, _ context.CancelFunc) { w.Stop() }},
		{name: "Stop twice", read: true, stop: func(w store.Watcher, _ context.CancelFunc) { w.Stop(); w.Stop() }},
		{name: "context cancelled", read: true, stop: func(_ store.Watcher, cancel context.CancelFunc) { cancel() }},
		{name: "Stop without reading", stop: func(w store.Watcher, _ context.CancelFunc) { w.Stop() }},
		{name: "context cancelled without reading", stop: func(_ store.Watcher, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			from := mustRevision(t, s)
			// More events than any sensible buffer, so that an unread
			// watcher is blocked sending when it is stopped.
			for i := range 300 {
				mustCreate(t, s, fmt.Sprintf("/s/%03d", i), "x")
			}
			ctx, cancel := context.WithCancel(ctxFor(t))
			defer cancel()
			w := mustWatch(t, ctx, s, "/s/", from)
			if tt.read {
				next(t, w)
			} else {
				time.Sleep(100 * time.Millisecond) // let the watcher fill its buffers
			}
			stopped := make(chan struct{})
			go func() {
				tt.stop(w, cancel)
				close(stopped)
			}()
			select {
			case <-stopped:
			case <-time.After(eventTimeout):
				t.Fatalf("stopping the watch did not return within %s", eventTimeout)
			}
			ended(t, w)
			if err := w.Err(); err != nil {
				t.Fatalf("Err after a requested stop = %v, want nil", err)
			}
		})
	}
}

// testWatchNoLeak checks that stopped watches leave no goroutine behind.
func testWatchNoLeak(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	// Warm up whatever the store shares between watches (connections,
	// streams) before counting.
	w := mustWatch(t, ctx, s, "/leak/", mustRevision(t, s))
	w.Stop()
	ended(t, w)
	base := settledGoroutines(0)

	const n = 20
	from := mustRevision(t, s)
	var cancels []context.CancelFunc
	var watchers []store.Watcher
	for range n {
		wctx, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
		watchers = append(watchers, mustWatch(t, wctx, s, "/leak/", from))
	}
	mustCreate(t, s, "/leak/k", "x")
	for _, w := range watchers {
		next(t, w)
	}
	during := runtime.NumGoroutine()
	start := time.Now()
	for i, w := range watchers {
		if i%2 == 0 {
			w.Stop()
		} else {
			cancels[i]()
		}
	}
	for _, w := range watchers {
		ended(t, w)
	}
	for _, cancel := range cancels {
		cancel()
	}
	after := settledGoroutines(base + 2)
	t.Logf("goroutines: %d before, %d with %d watches, %d after stopping them (settled in %s)",
		base, during, n, after, time.Since(start).Round(time.Millisecond))
	if after > base+2 {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		dump := buf.String()
		if len(dump) > 8000 {
			dump = dump[:8000]
		}
		t.Fatalf("%d goroutines after stopping %d watches, %d before:\n%s", after, n, base, dump)
	}
}

// settledGoroutines waits (up to 10s) for the goroutine count to fall to
// target, or to stop changing when target is 0, and returns it.
func settledGoroutines(target int) int {
	deadline := time.Now().Add(10 * time.Second)
	last := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if (target > 0 && n <= target) || (target == 0 && n == last) {
			return n
		}
		last = n
	}
	return last
}

// valueOf describes a value for failure messages without printing 1 MiB.
func valueOf(v []byte) string {
	if len(v) <= 32 {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%d bytes starting %q", len(v), strings.ToValidUTF8(string(v[:16]), "?"))
}
