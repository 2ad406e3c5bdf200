package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/store"
)

// initialEvents reads a watch from revision 0 up to its bookmark and
// returns the ADDED events and the bookmark's revision.
func initialEvents(t *testing.T, w *Watch) ([]Event, int64) {
	t.Helper()
	var evs []Event
	for {
		ev := recv(t, w)
		switch ev.Type {
		case api.WatchBookmark:
			return evs, ev.Revision
		case api.WatchAdded:
			evs = append(evs, ev)
		default:
			t.Fatalf("%s %s before the bookmark", ev.Type, ev.Object.GetObjectMeta().Name)
		}
	}
}

// Watches from revision 0 are served from one cache per kind: the store is
// listed once however many start, and every watcher gets the same decoded
// objects and encodings, not copies of its own.
func TestWatchesFromZeroShareOneCache(t *testing.T) {
	r, fs := newFlakyRegistry(t)
	ctx := context.Background()
	for i := range 20 {
		createCM(t, r, fmt.Sprintf("cm-%02d", i), nil)
	}
	lists := fs.lists.Load()
	var first []Event
	for i := range 3 {
		w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		evs, _ := initialEvents(t, w)
		if len(evs) != 20 {
			t.Fatalf("watch %d: %d initial objects, want 20", i, len(evs))
		}
		if i == 0 {
			first = evs
			continue
		}
		for j, ev := range evs {
			a, _ := first[j].JSON()
			b, _ := ev.JSON()
			if ev.Object != first[j].Object || &a[0] != &b[0] {
				t.Fatalf("watch %d: %s was decoded or encoded again for this watcher", i, ev.Object.GetObjectMeta().Name)
			}
		}
	}
	if n := fs.lists.Load() - lists; n != 1 {
		t.Errorf("3 watches from revision 0 listed the store %d times, want once", n)
	}
}

// An update whose caller read the object at revision R skips the store
// read when the cache holds the object at R, for any object, not only
// those changed since the cache started.
func TestUpdatesReadFromTheWatchCache(t *testing.T) {
	r, fs := newFlakyRegistry(t)
	ctx := context.Background()
	obj := createCM(t, r, "old", nil)
	w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	initialEvents(t, w)
	gets := fs.gets.Load()
	upd := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "old", Namespace: "default",
		ResourceVersion: obj.GetObjectMeta().ResourceVersion}, Data: map[string]string{"k": "v"}}
	if _, err := r.Update(ctx, upd, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := fs.gets.Load() - gets; n != 0 {
		t.Errorf("the update read the store %d times; the cache holds the object at its revision", n)
	}
}

// A watch from revision 0 starts from a snapshot of the cache taken with
// its subscription: while writers create, update and delete, every watcher
// ends with exactly the store's state, with no change lost or repeated.
func TestWatchFromZeroSeesEveryChangeOnce(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	for i := range 40 {
		createCM(t, r, fmt.Sprintf("cm-%02d", i), nil)
	}
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for range 4 {
		writers.Go(func() { churn(ctx, r, stop) })
	}
	var target atomic.Int64 // the store's final revision, once known
	var watchers sync.WaitGroup
	for i := range 8 {
		w, err := r.Watch(ctx, cmKind, "default", 0, Selectors{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		watchers.Go(func() {
			got := replay(t, w, &target)
			want, _, err := r.List(ctx, cmKind, "default", Selectors{})
			if err != nil {
				t.Error(err)
				return
			}
			if diff := stateDiff(got, want); diff != "" {
				t.Errorf("watcher %d ends with a different state than the store: %s", i, diff)
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	writers.Wait()
	rev, err := r.store.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	target.Store(rev)
	watchers.Wait()
}

// churn creates, updates and deletes config maps cm-00..cm-59 until stop.
func churn(ctx context.Context, r *Registry, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		name := fmt.Sprintf("cm-%02d", rand.N(60))
		switch rand.N(3) {
		case 0:
			_, _ = r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}}, WriteOptions{})
		case 1:
			_, _ = r.Update(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
				Data: map[string]string{"n": fmt.Sprint(n)}}, WriteOptions{})
		default:
			_, _, _ = r.Delete(ctx, cmKind, "default", name, DeleteOptions{})
		}
	}
}

// replay applies a watch from revision 0 to a map of name to revision,
// failing on any event that does not fit the state (an ADDED object it
// has, a change to one it lacks, a revision out of order), until the watch
// has delivered target.
func replay(t *testing.T, w *Watch, target *atomic.Int64) map[string]int64 {
	state := map[string]int64{}
	initial, rev := initialEvents(t, w)
	for _, ev := range initial {
		state[ev.Object.GetObjectMeta().Name] = ev.Object.GetObjectMeta().ResourceVersion
	}
	for {
		if tgt := target.Load(); tgt != 0 && rev >= tgt {
			return state
		}
		var ev Event
		select {
		case e, ok := <-w.Events():
			if !ok {
				t.Errorf("watch ended: %v", w.Err())
				return state
			}
			ev = e
		case <-time.After(50 * time.Millisecond):
			continue
		}
		name := ev.Object.GetObjectMeta().Name
		_, have := state[name]
		switch {
		case ev.Revision <= rev:
			t.Errorf("%s %s at revision %d, after %d", ev.Type, name, ev.Revision, rev)
		case ev.Type == api.WatchAdded && have:
			t.Errorf("ADDED %s at %d, which the watcher already has", name, ev.Revision)
		case ev.Type != api.WatchAdded && !have:
			t.Errorf("%s %s at %d, which the watcher never got", ev.Type, name, ev.Revision)
		}
		rev = ev.Revision
		if ev.Type == api.WatchDeleted {
			delete(state, name)
		} else {
			state[name] = ev.Object.GetObjectMeta().ResourceVersion
		}
	}
}

func stateDiff(got map[string]int64, want []api.Object) string {
	w := map[string]int64{}
	for _, o := range want {
		w[o.GetObjectMeta().Name] = o.GetObjectMeta().ResourceVersion
	}
	var diff []string
	for name, rv := range w {
		if got[name] != rv {
			diff = append(diff, fmt.Sprintf("%s at %d, store %d", name, got[name], rv))
		}
	}
	for name, rv := range got {
		if _, ok := w[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s at %d, gone from the store", name, rv))
		}
	}
	slices.Sort(diff)
	return fmt.Sprint(diff)[1 : len(fmt.Sprint(diff))-1]
}

// Watches from revision 0 see the objects in their namespace that match
// their selectors, in key order, then changes with selector transitions.
func TestWatchFromZeroFilters(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	x, y := map[string]string{"team": "x"}, map[string]string{"team": "y"}
	one := createCMIn(t, r, "a", "one", x)
	two := createCMIn(t, r, "a", "two", y)
	createCMIn(t, r, "b", "three", x)
	gone := createCMIn(t, r, "a", "gone", x)
	if _, _, err := r.Delete(ctx, cmKind, "a", gone.GetObjectMeta().Name, DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, namespace, labels, fields string
		initial, changes                []string
	}{
		{name: "everything",
			initial: []string{"ADDED one", "ADDED two", "ADDED three"},
			changes: []string{"MODIFIED two", "MODIFIED one", "DELETED three", "ADDED four"}},
		{name: "one namespace", namespace: "a",
			initial: []string{"ADDED one", "ADDED two"},
			changes: []string{"MODIFIED two", "MODIFIED one", "ADDED four"}},
		{name: "labels in a namespace", namespace: "a", labels: "team=x",
			initial: []string{"ADDED one"},
			changes: []string{"ADDED two", "DELETED one", "ADDED four"}},
		{name: "labels everywhere", labels: "team=x",
			initial: []string{"ADDED one", "ADDED three"},
			changes: []string{"ADDED two", "DELETED one", "DELETED three", "ADDED four"}},
		{name: "fields", fields: "metadata.name=two",
			initial: []string{"ADDED two"},
			changes: []string{"MODIFIED two"}},
		{name: "nothing matches", labels: "team=z"},
	}
	watches := make([]*Watch, len(cases))
	for i, tc := range cases {
		sel := Selectors{}
		var err error
		if tc.labels != "" {
			if sel.Labels, err = labels.Parse(tc.labels); err != nil {
				t.Fatal(err)
			}
		}
		if tc.fields != "" {
			if sel.Fields, err = ParseFieldSelector(cmKind, tc.fields); err != nil {
				t.Fatal(err)
			}
		}
		if watches[i], err = r.Watch(ctx, cmKind, tc.namespace, 0, sel); err != nil {
			t.Fatal(err)
		}
		defer watches[i].Stop()
	}
	relabel(t, r, two, x)
	relabel(t, r, one, y)
	if _, _, err := r.Delete(ctx, cmKind, "b", "three", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createCMIn(t, r, "a", "four", x)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			initial, _ := initialEvents(t, watches[i])
			if got := names(initial); !slices.Equal(got, tc.initial) {
				t.Errorf("initial objects %q, want %q", got, tc.initial)
			}
			var changes []Event
			for range tc.changes {
				changes = append(changes, recv(t, watches[i]))
			}
			if got := names(changes); !slices.Equal(got, tc.changes) {
				t.Errorf("changes %q, want %q", got, tc.changes)
			}
			select {
			case ev := <-watches[i].Events():
				t.Errorf("extra event %s %s", ev.Type, ev.Object.GetObjectMeta().Name)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}

func relabel(t *testing.T, r *Registry, obj api.Object, lbls map[string]string) {
	t.Helper()
	m := obj.GetObjectMeta()
	upd := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: lbls}}
	if _, err := r.Update(context.Background(), upd, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// When its store watch fails, the cache drops its state and ends every
// subscription; clients resume from their last revision, and the next use
// lists again. Nothing is served from the stale state meanwhile.
func TestWatchCacheRelistsAfterFailure(t *testing.T) {
	r, fs := newFlakyRegistry(t)
	ctx := context.Background()
	a := createCM(t, r, "a", nil)
	w0, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	_, seen := initialEvents(t, w0)
	w1, err := r.Watch(ctx, cmKind, "", seen, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Stop()

	fs.down.Store(true)
	fs.breakWatches(errEtcdDown)
	for i, w := range []*Watch{w0, w1} {
		select {
		case ev, ok := <-w.Events():
			if ok {
				t.Fatalf("watch %d: %s after the cache failed", i, ev.Type)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("watch %d not ended when the cache failed", i)
		}
		if err := w.Err(); err != nil {
			t.Errorf("watch %d ended with %v; want a clean end so the client resumes", i, err)
		}
	}
	h := r.hubFor(cmKind)
	if _, _, ok := h.cached(Key(cmKind, "default", "a"), a.GetObjectMeta().ResourceVersion); ok {
		t.Error("the failed cache still serves updates")
	}
	if _, err := r.Watch(ctx, cmKind, "", 0, Selectors{}); err == nil {
		t.Error("a watch from revision 0 started while the cache cannot list")
	}
	relabel(t, r, a, map[string]string{"v": "2"}) // changes made while the cache is down
	createCM(t, r, "b", nil)

	fs.down.Store(false)
	w2, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	initial, _ := initialEvents(t, w2)
	want, _, _ := r.List(ctx, cmKind, "", Selectors{})
	state := map[string]int64{}
	for _, ev := range initial {
		state[ev.Object.GetObjectMeta().Name] = ev.Object.GetObjectMeta().ResourceVersion
	}
	if diff := stateDiff(state, want); diff != "" {
		t.Errorf("after relisting: %s", diff)
	}
	// A client resuming from before the failure misses nothing.
	w3, err := r.Watch(ctx, cmKind, "", seen, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Stop()
	if got := names([]Event{recv(t, w3), recv(t, w3)}); !slices.Equal(got, []string{"MODIFIED a", "ADDED b"}) {
		t.Errorf("resumed watch got %q", got)
	}
}

// The cache keeps recent changes that the store has compacted away; a
// revision older than both is Expired.
func TestWatchCacheAndCompaction(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	_, start := initialEvents(t, w)
	var revs []int64
	for i := range 3 {
		revs = append(revs, createCM(t, r, fmt.Sprintf("cm-%d", i), nil).GetObjectMeta().ResourceVersion)
	}
	drain(t, w, revs[2])
	if err := r.store.Compact(ctx, revs[2]); err != nil {
		t.Fatal(err)
	}
	late, err := r.Watch(ctx, cmKind, "", revs[0], Selectors{})
	if err != nil {
		t.Fatalf("watch from a compacted revision the cache holds: %v", err)
	}
	defer late.Stop()
	if got := []int64{recv(t, late).Revision, recv(t, late).Revision}; !slices.Equal(got, revs[1:]) {
		t.Errorf("replayed revisions %v, want %v", got, revs[1:])
	}
	if _, err := r.Watch(ctx, cmKind, "", start-1, Selectors{}); !api.IsExpired(err) {
		t.Errorf("watch from a revision older than the cache, compacted in the store: %v, want Expired", err)
	}
}

// Watches from revision 0 stream their initial objects a few at a time; a
// client that stops reading holds its turn only until it leaves or the
// turn times out.
func TestInitialStreamsTakeTurns(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	createCM(t, r, "a", nil)
	h := r.hubFor(cmKind)
	h.turnHold = time.Hour
	var stuck []*Watch
	for range cap(h.turns) {
		w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if ev, ok := w.Next(); !ok || ev.Type != api.WatchAdded {
			t.Fatalf("first event %v %v", ev.Type, ok)
		}
		stuck = append(stuck, w) // and never read again
	}
	waiting, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Stop()
	select {
	case ev := <-waiting.Events():
		t.Fatalf("%s while every turn is taken", ev.Type)
	case <-time.After(200 * time.Millisecond):
	}
	stuck[0].Stop()
	if ev := recv(t, waiting); ev.Type != api.WatchAdded {
		t.Fatalf("after a turn was freed: %s", ev.Type)
	}

	for _, w := range stuck {
		w.Stop()
	}
	h.turnHold = 50 * time.Millisecond
	for range cap(h.turns) {
		w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		w.Next() // takes a turn and never reads again
	}
	late, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Stop()
	initialEvents(t, late) // once the stuck watches' turns time out
}

// Pending tells a writer whether to hold its flush: changes queued that
// the watch does not see must not count, or the event before them would
// wait in the writer's buffer for the next change the watch sees.
func TestPendingCountsOnlyWhatTheWatchSees(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	w0, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	_, from := initialEvents(t, w0)
	createCM(t, r, "mine", map[string]string{"team": "x"})
	last := createCM(t, r, "other", map[string]string{"team": "y"})
	drain(t, w0, last.GetObjectMeta().ResourceVersion)
	sel, _ := labels.Parse("team=x")
	w, err := r.Watch(ctx, cmKind, "", from, Selectors{Labels: sel}) // both changes queued at once
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if !w.Pending() {
		t.Fatal("nothing pending with a change the watch sees queued")
	}
	if ev, ok := w.Next(); !ok || ev.Object.GetObjectMeta().Name != "mine" {
		t.Fatalf("Next = %v %v, want mine", ev.Type, ok)
	}
	if w.Pending() {
		t.Fatal("pending after the only change the watch sees: its writer would not flush")
	}
	createCM(t, r, "mine-too", map[string]string{"team": "x"})
	if ev, ok := w.Next(); !ok || ev.Object.GetObjectMeta().Name != "mine-too" {
		t.Fatalf("Next = %v %v, want mine-too", ev.Type, ok)
	}
}

var _ store.Watcher = (*flakyWatcher)(nil)
