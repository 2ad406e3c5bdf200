package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
)

func TestVolumeStatus(t *testing.T) {
	placed := &api.PersistentVolume{Status: api.PersistentVolumeStatus{NodeName: "node-1", Phase: api.VolumeAvailable}}
	pinned := &api.PersistentVolume{Spec: api.PersistentVolumeSpec{NodeName: "node-1"}}
	users := []*api.Pod{ctlPod("default", "web-b", "node-1", nil), ctlPod("default", "web-a", "node-1", nil)}
	for _, tc := range []struct {
		name       string
		v          *api.PersistentVolume
		users      []*api.Pod
		nodeExists bool
		want       api.PersistentVolumeStatus
	}{
		{"on no node", &api.PersistentVolume{}, nil, false, api.PersistentVolumeStatus{Phase: api.VolumePending}},
		{"placed, unused", placed, nil, true, api.PersistentVolumeStatus{Phase: api.VolumeAvailable, NodeName: "node-1"}},
		{"placed, used", placed, users, true,
			api.PersistentVolumeStatus{Phase: api.VolumeBound, NodeName: "node-1", UsedBy: []string{"web-a", "web-b"}}},
		{"its node gone", placed, users, false,
			api.PersistentVolumeStatus{Phase: api.VolumeLost, NodeName: "node-1", UsedBy: []string{"web-a", "web-b"}}},
		{"pinned, status not written yet", pinned, nil, true, api.PersistentVolumeStatus{Phase: api.VolumeAvailable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := volumeStatus(tc.v, tc.users, tc.nodeExists)
			if !volumeStatusEqual(got, tc.want) {
				t.Errorf("status %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReleasableFinalizers(t *testing.T) {
	all := []string{api.FinalizerVolumeProtection, api.FinalizerVolumeData, "example.com/other"}
	vol := func(policy, node string) *api.PersistentVolume {
		return &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Finalizers: all},
			Spec: api.PersistentVolumeSpec{ReclaimPolicy: policy}, Status: api.PersistentVolumeStatus{NodeName: node}}
	}
	for _, tc := range []struct {
		name       string
		v          *api.PersistentVolume
		users      int
		nodeExists bool
		want       []string
	}{
		{"in use: held", vol(api.ReclaimDelete, "node-1"), 1, true, all},
		{"in use, Retain: held", vol(api.ReclaimRetain, "node-1"), 2, true, all},
		{"unused, Retain: nothing to remove", vol(api.ReclaimRetain, "node-1"), 0, true, []string{"example.com/other"}},
		{"unused, Delete: the agent removes the data", vol(api.ReclaimDelete, "node-1"), 0, true,
			[]string{api.FinalizerVolumeData, "example.com/other"}},
		{"unused, Delete, node gone: no agent to wait for", vol(api.ReclaimDelete, "node-1"), 0, false, []string{"example.com/other"}},
		{"unused, Delete, never placed: no data", vol(api.ReclaimDelete, ""), 0, false, []string{"example.com/other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := releasableFinalizers(tc.v, tc.users, tc.nodeExists); !slices.Equal(got, tc.want) {
				t.Errorf("keeps %v, want %v", got, tc.want)
			}
		})
	}
}

func volumePod(name, node, volume string) *api.Pod {
	return ctlPod("default", name, node, map[string]string{"app": "vol"}, func(p *api.Pod) {
		p.Spec.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: volume}}}}
	})
}

// ctlVolume waits until the volume satisfies ok; nil when it is gone.
func ctlVolume(t *testing.T, cl *ctlCluster, name, what string, ok func(v *api.PersistentVolume) bool) {
	t.Helper()
	ctlWait(t, 10*time.Second, what, func() (bool, string) {
		v, err := cl.c.Volumes("default").Get(cl.ctx, name)
		if ctlGone(t, err) {
			return ok(nil), "gone"
		}
		return ok(v), fmt.Sprintf("%+v finalizers %v deleting %v", v.Status, v.Finalizers, v.DeletionTimestamp != nil)
	})
}

func TestVolumeController(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t, simnode.NodeSpec{Name: "node-1", Zone: "a"}, simnode.NodeSpec{Name: "node-2", Zone: "b"})
	d := cl.deps(Config{})
	cl.run(t, d, NewVolumeController(d))
	vols := cl.c.Volumes("default")
	zero := client.DeleteOptions{GracePeriodSeconds: new(int64)}

	// A pod bound without the scheduler gets the Volume it names, there.
	ctlMust(cl.c.Pods("default").Create(cl.ctx, volumePod("legacy-0", "node-1", "legacy")))(t)
	ctlVolume(t, cl, "legacy", "a Volume for the bound pod", func(v *api.PersistentVolume) bool {
		return v != nil && v.Spec.NodeName == "node-1" && v.Status.Phase == api.VolumeBound && slices.Equal(v.Status.UsedBy, []string{"legacy-0"})
	})
	// A declared volume is placed where such a pod runs.
	ctlMust(vols.Create(cl.ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "declared"}}))(t)
	ctlVolume(t, cl, "declared", "a Pending declared volume", func(v *api.PersistentVolume) bool {
		return v != nil && v.Status.Phase == api.VolumePending
	})
	ctlMust(cl.c.Pods("default").Create(cl.ctx, volumePod("declared-0", "node-2", "declared")))(t)
	ctlVolume(t, cl, "declared", "the declared volume on node-2", func(v *api.PersistentVolume) bool {
		return v != nil && v.Status.NodeName == "node-2" && v.Spec.NodeName == "" && v.Status.Phase == api.VolumeBound
	})

	// In use: a delete waits for the pod (Kubernetes' volume protection).
	if err := vols.Delete(cl.ctx, "legacy"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a few reconciles: the volume must stay
	ctlVolume(t, cl, "legacy", "the used volume held", func(v *api.PersistentVolume) bool {
		return v != nil && v.DeletionTimestamp != nil && slices.Contains(v.Finalizers, api.FinalizerVolumeProtection)
	})
	if err := cl.c.Pods("default").Delete(cl.ctx, "legacy-0", zero); err != nil {
		t.Fatal(err)
	}
	ctlVolume(t, cl, "legacy", "the Retain volume gone with its last pod", func(v *api.PersistentVolume) bool { return v == nil })

	// Delete policy: the data finalizer waits for node-1's agent.
	ctlMust(vols.Create(cl.ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "wiped"},
		Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-1"}}))(t)
	if err := vols.Delete(cl.ctx, "wiped"); err != nil {
		t.Fatal(err)
	}
	ctlVolume(t, cl, "wiped", "only the data finalizer left", func(v *api.PersistentVolume) bool {
		return v != nil && slices.Equal(v.Finalizers, []string{api.FinalizerVolumeData})
	})

	// A node that is gone: the volume is Lost, and deleting it waits for
	// no agent.
	ctlMust(vols.Create(cl.ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "stranded"},
		Spec: api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimDelete, NodeName: "node-9"}}))(t)
	ctlVolume(t, cl, "stranded", "a Lost volume", func(v *api.PersistentVolume) bool {
		return v != nil && v.Status.Phase == api.VolumeLost
	})
	if err := vols.Delete(cl.ctx, "stranded"); err != nil {
		t.Fatal(err)
	}
	ctlVolume(t, cl, "stranded", "the stranded volume gone", func(v *api.PersistentVolume) bool { return v == nil })
}
