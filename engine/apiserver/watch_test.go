package apiserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// next reads one event or fails after a deadline.
func next[T api.Object](t *testing.T, w *client.Watcher[T]) client.Event[T] {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	panic("unreachable")
}

func TestWatchDeliversEveryChangeInOrder(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cms := env.Client.ConfigMaps("default")
	first, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "before"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, client.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	a, _ := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "a"}})
	a.Data = map[string]string{"k": "v"}
	a2, _ := cms.Update(ctx, a)
	if err := cms.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ, name string
	}{{api.WatchAdded, "a"}, {api.WatchModified, "a"}, {api.WatchDeleted, "a"}}
	var last int64
	for i, wnt := range want {
		ev := next(t, w)
		if ev.Type != wnt.typ || ev.Object.Name != wnt.name {
			t.Fatalf("event %d = %s %s, want %s %s", i, ev.Type, ev.Object.Name, wnt.typ, wnt.name)
		}
		if ev.Object.ResourceVersion <= last {
			t.Fatalf("event %d revision %d not after %d", i, ev.Object.ResourceVersion, last)
		}
		last = ev.Object.ResourceVersion
		if i == 1 && ev.Object.Data["k"] != "v" {
			t.Fatalf("MODIFIED carries %v, want the update", ev.Object.Data)
		}
	}
	if last <= a2.ResourceVersion {
		t.Fatalf("delete revision %d not after update %d", last, a2.ResourceVersion)
	}
}

func TestWatchFromZeroStartsWithCurrentObjects(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cms := env.Client.ConfigMaps("default")
	for i := range 3 {
		if _, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := cms.Watch(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i := range 3 {
		if ev := next(t, w); ev.Type != api.WatchAdded {
			t.Fatalf("initial event %d is %s, want ADDED", i, ev.Type)
		}
	}
	if _, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "later"}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != api.WatchAdded || ev.Object.Name != "later" {
		t.Fatalf("after the initial objects got %s %s, want ADDED later", ev.Type, ev.Object.Name)
	}
}

func TestWatchSelectorTransitions(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	pods := env.Client.Pods("default")
	// A node's view: pods bound to node-1 appear when bound.
	w, err := pods.Watch(ctx, client.ListOptions{FieldSelector: "spec.nodeName=node-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	p, _ := pods.Create(ctx, pod("p", ""))
	if _, err := pods.Create(ctx, pod("elsewhere", "node-2")); err != nil {
		t.Fatal(err)
	}
	p.Spec.NodeName = "node-1"
	if _, err := pods.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != api.WatchAdded || ev.Object.Name != "p" {
		t.Fatalf("binding to the watched node gave %s %s, want ADDED p", ev.Type, ev.Object.Name)
	}
	// Labels: a pod leaving a label selector is DELETED for that watch.
	lw, err := pods.Watch(ctx, client.ListOptions{LabelSelector: "app=p", ResourceVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Stop()
	got, _ := pods.Get(ctx, "p")
	got.Labels = map[string]string{"app": "gone"}
	if _, err := pods.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	var types []string
	for len(types) < 3 {
		ev := next(t, lw)
		if ev.Object.Name == "p" {
			types = append(types, ev.Type)
		}
	}
	// Created, bound, relabelled out of the selector.
	want := []string{api.WatchAdded, api.WatchModified, api.WatchDeleted}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("label watch of p: %v, want %v", types, want)
		}
	}
}

func TestWatchResumesAcrossStreamEnds(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cms := env.Client.ConfigMaps("default")
	rev, _ := env.CP.Store().CurrentRevision(ctx)
	// Streams end every second; the watcher must reconnect from where it
	// stopped, losing and repeating nothing.
	w, err := cms.Watch(ctx, client.ListOptions{ResourceVersion: rev, TimeoutSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	const n = 30
	go func() {
		for i := range n {
			_, _ = cms.Create(context.Background(), &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("cm-%02d", i)}})
			time.Sleep(100 * time.Millisecond)
		}
	}()
	for i := range n {
		ev := next(t, w)
		if want := fmt.Sprintf("cm-%02d", i); ev.Object.Name != want || ev.Type != api.WatchAdded {
			t.Fatalf("event %d = %s %s, want ADDED %s", i, ev.Type, ev.Object.Name, want)
		}
	}
	select {
	case ev := <-w.Events():
		t.Fatalf("extra event after all creates: %s %s", ev.Type, ev.Object.Name)
	case <-time.After(1500 * time.Millisecond):
	}
}

func TestWatchFromCompactedRevisionIsExpired(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cms := env.Client.ConfigMaps("default")
	old, _ := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "a"}})
	for i := range 5 {
		old.Data = map[string]string{"i": fmt.Sprint(i)}
		if _, err := cms.Update(ctx, old); err != nil {
			t.Fatal(err)
		}
		old.ResourceVersion = 0
	}
	rev, _ := env.CP.Store().CurrentRevision(ctx)
	if err := env.CP.Store().Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	_, err := cms.Watch(ctx, client.ListOptions{ResourceVersion: rev - 3})
	if !api.IsExpired(err) || api.CodeOf(err) != 410 {
		t.Fatalf("watch from a compacted revision: %v, want 410 Expired", err)
	}
}

// A filtered watch flushes each event it sends, even when changes it does
// not see are queued behind it (a node's watch of its pods while other
// nodes' pods change).
func TestFilteredWatchFlushesPastChangesItDoesNotSee(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	pods := env.Client.Pods("default")
	rev, _ := env.CP.Store().CurrentRevision(ctx)
	// Start the cache for pods, so the watch below replays from it.
	w0, err := pods.Watch(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	if _, err := pods.Create(ctx, pod("mine", "node-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, pod("other", "node-2")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		next(t, w0)
	}
	// Both changes are queued at once for this watch; only the first is its.
	w, err := pods.Watch(ctx, client.ListOptions{FieldSelector: "spec.nodeName=node-1", ResourceVersion: rev})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := next(t, w); ev.Type != api.WatchAdded || ev.Object.Name != "mine" {
		t.Fatalf("got %s %s, want ADDED mine", ev.Type, ev.Object.Name)
	}
}
