package apiserver_test

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func newVolume(name, node string) *api.PersistentVolume {
	return &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.PersistentVolumeSpec{NodeName: node}}
}

// A Volume starts with its protection and data finalizers, and lives on its
// pin; the node it lives on never changes afterwards, whoever writes.
func TestVolumeLifecycleRules(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	vols := env.Client.Volumes("default")

	free, err := vols.Create(ctx, newVolume("free", ""))
	if err != nil {
		t.Fatal(err)
	}
	wantFinalizers := []string{api.FinalizerVolumeProtection, api.FinalizerVolumeData}
	if free.Spec.ReclaimPolicy != api.ReclaimRetain || free.Status.Phase != api.VolumePending || free.Status.NodeName != "" ||
		!slices.Equal(free.Finalizers, wantFinalizers) {
		t.Fatalf("new volume: policy %q, status %+v, finalizers %v", free.Spec.ReclaimPolicy, free.Status, free.Finalizers)
	}
	pinned, err := vols.Create(ctx, newVolume("pinned", "node-1"))
	if err != nil {
		t.Fatal(err)
	}
	if pinned.Status.NodeName != "node-1" || pinned.Status.Phase != api.VolumeAvailable {
		t.Fatalf("pinned volume status %+v, want Available on node-1", pinned.Status)
	}
	// A status sent with a create is the server's to decide.
	forged := newVolume("forged", "")
	forged.Status = api.PersistentVolumeStatus{NodeName: "node-9", Phase: api.VolumeBound}
	if got, err := vols.Create(ctx, forged); err != nil || got.Status.NodeName != "" || got.Status.Phase != api.VolumePending {
		t.Fatalf("create with a status: %+v, %v", got, err)
	}

	// Pinning a volume not yet placed places it.
	free.Spec.NodeName = "node-2"
	if free, err = vols.Update(ctx, free); err != nil || free.Status.NodeName != "node-2" || free.Status.Phase != api.VolumeAvailable {
		t.Fatalf("pinning a free volume: %+v, %v", free, err)
	}

	for _, tc := range []struct {
		name   string
		write  func(v *api.PersistentVolume) error
		fields []string
	}{
		{"pin moved", func(v *api.PersistentVolume) error {
			v.Spec.NodeName = "node-3"
			_, err := vols.Update(ctx, v)
			return err
		}, []string{"spec.nodeName", "spec.nodeName"}},
		{"data moved by a status write", func(v *api.PersistentVolume) error {
			v.Status.NodeName = "node-3"
			_, err := vols.UpdateStatus(ctx, v)
			return err
		}, []string{"spec.nodeName", "status.nodeName"}},
		{"reclaim policy unknown", func(v *api.PersistentVolume) error {
			v.Spec.ReclaimPolicy = "Recycle"
			_, err := vols.Update(ctx, v)
			return err
		}, []string{"spec.reclaimPolicy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := vols.Get(ctx, "pinned")
			if err != nil {
				t.Fatal(err)
			}
			err = tc.write(before)
			if !api.IsInvalid(err) || !slices.Equal(causes(err), tc.fields) {
				t.Fatalf("got %v (fields %v), want 422 naming %v", err, causes(err), tc.fields)
			}
			after, err := vols.Get(ctx, "pinned")
			if err != nil || after.ResourceVersion != pinned.ResourceVersion {
				t.Fatalf("the refused write changed the volume: %+v, %v", after, err)
			}
		})
	}

	// Deleting holds the volume on its finalizers (the volume controller
	// and the node's agent release them; neither runs here).
	if err := vols.Delete(ctx, "pinned"); err != nil {
		t.Fatal(err)
	}
	if v, err := vols.Get(ctx, "pinned"); err != nil || v.DeletionTimestamp == nil {
		t.Fatalf("deleted volume: %+v, %v; want it held, terminating", v, err)
	}
}

// A node sees the volumes on it through a field selector, and may release
// their finalizers, but not read or write another node's.
func TestVolumesAsNode(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	admin := env.Client.Volumes("default")
	for _, v := range []*api.PersistentVolume{newVolume("mine", "node-1"), newVolume("theirs", "node-2")} {
		if _, err := admin.Create(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	node := env.ClientAs(t, "node", "node-1").Volumes("default")
	list, _, err := node.List(ctx, client.ListOptions{FieldSelector: "status.nodeName=node-1"})
	if err != nil || len(list) != 1 || list[0].Name != "mine" {
		t.Fatalf("node-1 lists %v, %v; want only its volume", list, err)
	}
	if _, _, err := node.List(ctx, client.ListOptions{}); !api.IsForbidden(err) {
		t.Errorf("node-1 lists every volume: %v", err)
	}
	if _, err := node.Get(ctx, "theirs"); !api.IsForbidden(err) {
		t.Errorf("node-1 reads node-2's volume: %v", err)
	}
	mine, err := node.Get(ctx, "mine")
	if err != nil {
		t.Fatal(err)
	}
	mine.Finalizers = []string{api.FinalizerVolumeProtection}
	if _, err := node.Update(ctx, mine); err != nil {
		t.Errorf("node-1 releasing the data finalizer of its volume: %v", err)
	}
	theirs, err := admin.Get(ctx, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	theirs.Finalizers = nil
	if _, err := node.Update(ctx, theirs); !api.IsForbidden(err) {
		t.Errorf("node-1 updates node-2's volume: %v", err)
	}
}
