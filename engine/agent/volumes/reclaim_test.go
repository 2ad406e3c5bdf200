package volumes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// fakeRemover records the runtime volumes removed; busy ones fail.
type fakeRemover struct {
	mu      sync.Mutex
	removed []string
	busy    map[string]bool
}

func (f *fakeRemover) RemoveVolume(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy[name] {
		return errors.New("volume is in use")
	}
	f.removed = append(f.removed, name)
	return nil
}

func (f *fakeRemover) setBusy(name string, busy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy[name] = busy
}

func (f *fakeRemover) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.removed)
}

// deleteUnused deletes a volume and releases its protection finalizer, as
// the volume controller does once no pod uses it.
func deleteUnused(t *testing.T, c *client.Client, name string) {
	t.Helper()
	vols := c.Volumes("default")
	if err := vols.Delete(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	v, err := vols.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	v.Finalizers = slices.DeleteFunc(v.Finalizers, func(f string) bool { return f == api.FinalizerVolumeProtection })
	if _, err := vols.Update(t.Context(), v); err != nil {
		t.Fatal(err)
	}
}

// The agent of node-1 removes the data of its deleted Delete-policy
// volumes (and only those), with its own credential, then lets the API
// delete them; a removal the runtime refuses is retried.
func TestReclaimer(t *testing.T) {
	env := testenv.Start(t)
	admin := env.Client
	for _, v := range []*api.PersistentVolume{
		{ObjectMeta: api.ObjectMeta{Name: "wipe"}, Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-1"}},
		{ObjectMeta: api.ObjectMeta{Name: "busy"}, Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-1"}},
		{ObjectMeta: api.ObjectMeta{Name: "keep"}, Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimRetain, NodeName: "node-1"}},
		{ObjectMeta: api.ObjectMeta{Name: "theirs"}, Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-2"}},
		{ObjectMeta: api.ObjectMeta{Name: "in-use"}, Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-1"}},
	} {
		if _, err := admin.Volumes("default").Create(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	rt := &fakeRemover{busy: map[string]bool{"maestro-pv-node-1_default_busy": true}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewReclaimer(env.ClientAs(t, "node", "node-1"), "node-1", rt, testenv.Logger(t)).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })

	for _, name := range []string{"wipe", "busy", "keep", "theirs"} {
		deleteUnused(t, admin, name)
	}
	if err := admin.Volumes("default").Delete(t.Context(), "in-use"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the data of wipe removed and wipe gone", func() bool {
		_, err := admin.Volumes("default").Get(t.Context(), "wipe")
		return api.IsNotFound(err) && slices.Contains(rt.list(), "maestro-pv-node-1_default_wipe")
	})
	rt.setBusy("maestro-pv-node-1_default_busy", false)
	waitFor(t, "busy removed once free", func() bool {
		_, err := admin.Volumes("default").Get(t.Context(), "busy")
		return api.IsNotFound(err)
	})
	if got := rt.list(); !slices.Equal(got, []string{"maestro-pv-node-1_default_wipe", "maestro-pv-node-1_default_busy"}) {
		t.Fatalf("removed %v; want only node-1's unused Delete-policy volumes", got)
	}
	for _, name := range []string{"keep", "theirs", "in-use"} {
		if v, err := admin.Volumes("default").Get(t.Context(), name); err != nil || !slices.Contains(v.Finalizers, api.FinalizerVolumeData) {
			t.Errorf("volume %s: %+v, %v; want it held by its data finalizer", name, v, err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
