package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// usesVolumes mounts persistent volumes by name.
func usesVolumes(names ...string) podOpt {
	return func(p *api.Pod) {
		for i, n := range names {
			p.Spec.Volumes = append(p.Spec.Volumes, api.Volume{Name: "v" + itoa(i),
				VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: n}}})
		}
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// vol is a Volume in namespace default living on node ("" for none).
func vol(name, node string, opts ...func(*api.PersistentVolume)) *api.PersistentVolume {
	v := &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Status: api.PersistentVolumeStatus{NodeName: node}}
	for _, o := range opts {
		o(v)
	}
	return v
}

func deleting(v *api.PersistentVolume) { v.DeletionTimestamp = &time.Time{} }

// TestVolumeFilter: a pod goes only to the node holding its volumes; when
// none can take it, the message names the volume and where it is.
func TestVolumeFilter(t *testing.T) {
	nodes := []*api.Node{node("n1"), node("n2"), node("n3")}
	cases := []struct {
		name  string
		nodes []*api.Node
		vols  []*api.PersistentVolume
		pod   *api.Pod
		// feasible nodes, or the failure message when none is.
		feasible []string
		message  string
	}{
		{name: "volume on n2", vols: []*api.PersistentVolume{vol("data", "n2")}, pod: pod("p", usesVolumes("data")),
			feasible: []string{"n2"}},
		{name: "pinned, not yet in status", vols: []*api.PersistentVolume{{ObjectMeta: api.ObjectMeta{Name: "data", Namespace: "default"},
			Spec: api.PersistentVolumeSpec{NodeName: "n3"}}}, pod: pod("p", usesVolumes("data")), feasible: []string{"n3"}},
		{name: "volume on no node yet", vols: []*api.PersistentVolume{vol("data", "")}, pod: pod("p", usesVolumes("data")),
			feasible: []string{"n1", "n2", "n3"}},
		{name: "no Volume yet (first use)", pod: pod("p", usesVolumes("data")), feasible: []string{"n1", "n2", "n3"}},
		{name: "same name in another namespace", vols: []*api.PersistentVolume{vol("data", "n1", func(v *api.PersistentVolume) { v.Namespace = "other" })},
			pod: pod("p", usesVolumes("data")), feasible: []string{"n1", "n2", "n3"}},
		{name: "a pod without volumes", vols: []*api.PersistentVolume{vol("data", "n2")}, pod: pod("p"), feasible: []string{"n1", "n2", "n3"}},
		{name: "two volumes on one node", vols: []*api.PersistentVolume{vol("data", "n1"), vol("logs", "n1")},
			pod: pod("p", usesVolumes("data", "logs")), feasible: []string{"n1"}},
		{name: "one volume placed, one new", vols: []*api.PersistentVolume{vol("data", "n3")},
			pod: pod("p", usesVolumes("logs", "data")), feasible: []string{"n3"}},
		{name: "its node cordoned", nodes: []*api.Node{node("n1"), node("n2", cordoned()), node("n3")},
			vols: []*api.PersistentVolume{vol("data", "n2")}, pod: pod("p", usesVolumes("data")),
			message: `0/3 nodes available: 2 node(s) can't use the pod's volumes, 1 node(s) were unschedulable; volume "data" is on node "n2"`},
		{name: "its node short of memory", nodes: []*api.Node{node("n1"), node("n2", capacity("4", "1Gi", "110")), node("n3")},
			vols: []*api.PersistentVolume{vol("data", "n2")}, pod: pod("p", usesVolumes("data"), req("100m", "2Gi")),
			message: `0/3 nodes available: 2 node(s) can't use the pod's volumes, 1 insufficient memory; volume "data" is on node "n2"`},
		{name: "its node gone", vols: []*api.PersistentVolume{vol("data", "n9")}, pod: pod("p", usesVolumes("data")),
			message: `0/3 nodes available: 3 node(s) can't use the pod's volumes; volume "data" lives on node "n9", which is gone`},
		{name: "being deleted", vols: []*api.PersistentVolume{vol("data", "n1", deleting)}, pod: pod("p", usesVolumes("data")),
			message: `0/3 nodes available: 3 node(s) can't use the pod's volumes; volume "data" is being deleted`},
		{name: "being deleted before use", vols: []*api.PersistentVolume{vol("data", "", deleting)}, pod: pod("p", usesVolumes("data")),
			message: `0/3 nodes available: 3 node(s) can't use the pod's volumes; volume "data" is being deleted`},
		{name: "volumes on two nodes", vols: []*api.PersistentVolume{vol("data", "n1"), vol("logs", "n2")},
			pod:     pod("p", usesVolumes("data", "logs")),
			message: `0/3 nodes available: 3 node(s) can't use the pod's volumes; volumes "data" and "logs" live on different nodes (n1, n2)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.nodes
			if ns == nil {
				ns = nodes
			}
			snap := NewSnapshotFrom(ns, nil)
			snap.UseVolumes(tc.vols)
			var st CycleState
			st.PreFilter(snap, mustPodInfo(t, tc.pod))
			var feasible []string
			for _, n := range snap.Nodes() {
				if st.volNode == "" && !st.volBlocked || (volumeFilter{}).Filter(&st, n).Fits() {
					feasible = append(feasible, n.Name)
				}
			}
			slices.Sort(feasible)
			res := newTestPipeline(t, PipelineConfig{}).Schedule(snap, mustPodInfo(t, tc.pod))
			if tc.message != "" {
				if res.Fits() || res.Diagnosis.Message() != tc.message {
					t.Fatalf("placed on %q, message %q\nwant no node and %q", res.Node, res.Diagnosis.Message(), tc.message)
				}
				return
			}
			if !slices.Equal(feasible, tc.feasible) || !slices.Contains(tc.feasible, res.Node) {
				t.Fatalf("feasible %v, placed on %q; want one of %v", feasible, res.Node, tc.feasible)
			}
		})
	}
}

// The volume details appear only when volumes ruled nodes out.
func TestDiagnosisVolumeDetailOnlyWhenVolumesRejected(t *testing.T) {
	d := Diagnosis{Nodes: 2, Volumes: `volume "data" is on node "n2"`}
	d.add(Reject(ReasonInsufficientMemory))
	d.add(Reject(ReasonInsufficientMemory))
	if got, want := d.Message(), "0/2 nodes available: 2 insufficient memory"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// A placement assumed for a new volume ties the next pod of that volume
// to the same node until the Volume shows up; a failed placement is
// forgotten.
func TestVolumeBookAssume(t *testing.T) {
	b := NewVolumeBook(vol("placed", "n3"))
	first := mustPodInfo(t, pod("a", usesVolumes("new", "placed")))
	keys := b.assume(first, "n3")
	if !slices.Equal(keys, []string{"default/new"}) {
		t.Fatalf("assumed %v, want only the volume on no node", keys)
	}
	if w := b.where("default/new"); w.node != "n3" {
		t.Fatalf("assumed volume is on %q, want n3", w.node)
	}
	if again := b.assume(mustPodInfo(t, pod("b", usesVolumes("new"))), "n1"); again != nil {
		t.Fatalf("a second pod re-assumed %v", again)
	}
	b.forget(keys)
	if w := b.where("default/new"); w.node != "" {
		t.Fatalf("forgotten volume is on %q", w.node)
	}
	b.assume(first, "n2")
	b.Set(vol("new", "n2"))
	b.Set(vol("new", "n2", deleting))
	if w := b.where("default/new"); w.node != "n2" || !w.deleting {
		t.Fatalf("after the informer: %+v", w)
	}
	b.Delete("default/new")
	if w := b.where("default/new"); w != (volumeWhere{}) {
		t.Fatalf("after delete: %+v", w)
	}
}

// Replicas sharing a volume that does not exist yet preview onto one node.
func TestPreviewKeepsAVolumesPodsTogether(t *testing.T) {
	nodes := zonedNodes(3, []string{"z1", "z2", "z3"})
	snap := NewSnapshotFrom(nodes, nil)
	snap.UseVolumes(nil)
	pls := Preview(snap, replicas(3, usesVolumes("shared")))
	if u := unplaced(pls); len(u) > 0 {
		t.Fatalf("unplaced: %+v", u)
	}
	for _, pl := range pls[1:] {
		if pl.Node != pls[0].Node {
			t.Fatalf("placements %+v: want every pod with the volume's first pod", pls)
		}
	}
	// The snapshot itself assumed nothing.
	if w := snap.volumeWhere("default/shared"); w.node != "" {
		t.Fatalf("the preview leaked into the snapshot: %+v", w)
	}
}
