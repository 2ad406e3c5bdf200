package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/store"
)

func newTestRegistry(t *testing.T) *Registry {
	t.Helper()
	e, err := store.StartEmbedded(context.Background(), store.EmbeddedConfig{Dir: t.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewEtcd(e.Client(), "/t")
	t.Cleanup(func() { s.Close(); e.Close() })
	r := New(Options{Store: s})
	if _, err := r.Create(context.Background(), &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "default"}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return r
}

var cmKind = api.MustKind("ConfigMap")

func createCM(t *testing.T, r *Registry, name string, lbls map[string]string) api.Object {
	t.Helper()
	obj, err := r.Create(context.Background(), &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: lbls}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func recv(t *testing.T, w *Watch) Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

func TestHubSharesEventsAmongWatchers(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	rev, _ := r.store.CurrentRevision(ctx)
	sel, _ := labels.Parse("team=a")
	all, err := r.Watch(ctx, cmKind, "", rev, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Stop()
	team, err := r.Watch(ctx, cmKind, "default", rev, Selectors{Labels: sel})
	if err != nil {
		t.Fatal(err)
	}
	defer team.Stop()
	createCM(t, r, "x", map[string]string{"team": "b"})
	createCM(t, r, "y", map[string]string{"team": "a"})
	e1, e2 := recv(t, all), recv(t, all)
	e3 := recv(t, team)
	if e1.Object.GetObjectMeta().Name != "x" || e2.Object.GetObjectMeta().Name != "y" || e3.Object.GetObjectMeta().Name != "y" {
		t.Fatalf("events %s %s / %s", e1.Object.GetObjectMeta().Name, e2.Object.GetObjectMeta().Name, e3.Object.GetObjectMeta().Name)
	}
	// Both watchers got the very same decoded object and encoding.
	if e2.Object != e3.Object {
		t.Error("watchers decoded the same event separately")
	}
	b2, _ := e2.JSON()
	b3, _ := e3.JSON()
	if &b2[0] != &b3[0] {
		t.Error("watchers encoded the same event separately")
	}
	if len(r.hubs) != 1 {
		t.Errorf("%d hubs, want one per watched kind", len(r.hubs))
	}
}

func TestHubReplaysRecentRevisions(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	rev, _ := r.store.CurrentRevision(ctx)
	first, err := r.Watch(ctx, cmKind, "", rev, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	var revs []int64
	for i := range 5 {
		revs = append(revs, createCM(t, r, fmt.Sprintf("cm-%d", i), nil).GetObjectMeta().ResourceVersion)
	}
	for range 5 {
		recv(t, first)
	}
	// A watcher resuming after the second create gets exactly the last three.
	late, err := r.Watch(ctx, cmKind, "", revs[1], Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Stop()
	for i := 2; i < 5; i++ {
		if ev := recv(t, late); ev.Revision != revs[i] {
			t.Fatalf("replayed revision %d, want %d", ev.Revision, revs[i])
		}
	}
	select {
	case ev := <-late.Events():
		t.Fatalf("unexpected extra event %v", ev.Revision)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestHubCutsOffASlowWatcherOnly(t *testing.T) {
	r := newTestRegistry(t)
	r.hubQueueSize = 32
	ctx := context.Background()
	rev, _ := r.store.CurrentRevision(ctx)
	slow, err := r.Watch(ctx, cmKind, "", rev, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	fast, err := r.Watch(ctx, cmKind, "", rev, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	// Fill the slow watcher's queue without reading it.
	// Beyond what the hub queues for it and what its own stream buffers.
	n := r.hubQueueSize + cap(slow.events) + 50
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			recv(t, fast)
		}
	}()
	for i := range n {
		createCM(t, r, fmt.Sprintf("cm-%d", i), nil)
	}
	<-done
	got := 0
	timeout := time.After(10 * time.Second)
drain:
	for {
		select {
		case _, ok := <-slow.Events():
			if !ok {
				break drain
			}
			got++
		case <-timeout:
			t.Fatalf("slow watcher never cut off (got %d events)", got)
		}
	}
	if got >= n || slow.Err() != nil {
		t.Fatalf("slow watcher got %d of %d events, err %v; want it cut off without an error", got, n, slow.Err())
	}
}

func TestWritesFromTheHubCacheNeverAlterSharedObjects(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	rev, _ := r.store.CurrentRevision(ctx)
	w, err := r.Watch(ctx, podKind, "", rev, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}}}
	if _, err := r.Create(ctx, p, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	seen := recv(t, w).Object.(*api.Pod)
	before, _ := json.Marshal(seen)

	// Bind, then update the status, each with the revision the hub holds.
	rv, err := r.Bind(ctx, "default", "p", "node-1", seen.ResourceVersion, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := recv(t, w).Object.(*api.Pod)
	boundJSON, _ := json.Marshal(bound)
	st := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: rv},
		Status: api.PodStatus{Phase: api.PodRunning, Conditions: []api.Condition{{Type: api.PodReady, Status: api.ConditionTrue}}}}
	if _, err := r.Update(ctx, st, WriteOptions{Subresource: "status"}); err != nil {
		t.Fatal(err)
	}
	recv(t, w)
	after, _ := json.Marshal(seen)
	boundAfter, _ := json.Marshal(bound)
	if string(before) != string(after) || string(boundJSON) != string(boundAfter) {
		t.Fatalf("a write changed an object watchers hold:\n%s\n%s", before, after)
	}
	// And a stale revision still conflicts, cache or not.
	st.ResourceVersion = rv
	if _, err := r.Update(ctx, st, WriteOptions{Subresource: "status"}); !api.IsConflict(err) {
		t.Fatalf("stale status update: %v, want Conflict", err)
	}
}
