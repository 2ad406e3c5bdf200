package api

import (
	"reflect"
	"strings"
	"testing"
)

func volume(mut func(*PersistentVolume)) *PersistentVolume { return defaulted(baseVolume(), mut) }

func TestDefaultVolume(t *testing.T) {
	v := volume(nil)
	if v.Spec.ReclaimPolicy != ReclaimRetain {
		t.Errorf("reclaimPolicy defaults to %q, want %q", v.Spec.ReclaimPolicy, ReclaimRetain)
	}
	d := volume(func(v *PersistentVolume) { v.Spec.ReclaimPolicy = ReclaimDelete })
	Default(d)
	if d.Spec.ReclaimPolicy != ReclaimDelete {
		t.Errorf("a set reclaimPolicy became %q", d.Spec.ReclaimPolicy)
	}
}

func TestValidateVolumeValid(t *testing.T) {
	for name, v := range map[string]*PersistentVolume{
		"declared ahead":        volume(nil),
		"pinned":                volume(func(v *PersistentVolume) { v.Spec.NodeName = "node-1.example.com" }),
		"placed by first use":   volume(func(v *PersistentVolume) { v.Status.NodeName = "node-2" }),
		"pinned where it lives": volume(func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-2", "node-2" }),
		"in use": volume(func(v *PersistentVolume) {
			v.Status = PersistentVolumeStatus{Phase: VolumeBound, NodeName: "node-2", UsedBy: []string{"store-7d9f-abcde"}}
		}),
	} {
		t.Run(name, func(t *testing.T) { assertErrors(t, Validate(v), nil) })
	}
}

func TestValidateVolumeInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"reclaim policy unknown", volume(func(v *PersistentVolume) { v.Spec.ReclaimPolicy = "Recycle" }),
			[]string{"unsupported spec.reclaimPolicy"}},
		{"reclaim policy in lowercase", volume(func(v *PersistentVolume) { v.Spec.ReclaimPolicy = "delete" }),
			[]string{"unsupported spec.reclaimPolicy"}},
		{"node name invalid", volume(func(v *PersistentVolume) { v.Spec.NodeName = "Node_1" }), []string{"invalid spec.nodeName"}},
		{"status node name invalid", volume(func(v *PersistentVolume) { v.Status.NodeName = "node 1" }), []string{"invalid status.nodeName"}},
		{"pinned away from its data", volume(func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-1", "node-2" }),
			[]string{"invalid spec.nodeName"}},
		{"phase unknown", volume(func(v *PersistentVolume) { v.Status.Phase = "Released" }), []string{"unsupported status.phase"}},
		{"user invalid", volume(func(v *PersistentVolume) { v.Status.UsedBy = []string{"ok", "Not OK"} }), []string{"invalid status.usedBy[1]"}},
		{"name with a dot", volume(func(v *PersistentVolume) { v.Name = "data.1" }), []string{"invalid metadata.name"}},
		{"no namespace", volume(func(v *PersistentVolume) { v.Namespace = "" }), []string{"required metadata.namespace"}},
	})
}

func TestValidateVolumePinnedAwayNamesTheNode(t *testing.T) {
	errs := Validate(volume(func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-1", "node-2" }))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "lives on node node-2") {
		t.Fatalf("errors %v; want one saying the data lives on node-2", errs)
	}
}

func TestValidateVolumeUpdate(t *testing.T) {
	placed := volume(func(v *PersistentVolume) { v.Status.NodeName = "node-2" })
	pinned := volume(func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-2", "node-2" })
	for _, tc := range []struct {
		name   string
		old    *PersistentVolume
		change func(*PersistentVolume)
		want   []string
	}{
		{"placed by the scheduler", volume(nil), func(v *PersistentVolume) { v.Status.NodeName = "node-1" }, nil},
		{"pinned before use", volume(nil), func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-1", "node-1" }, nil},
		{"pinned where it lives", placed, func(v *PersistentVolume) { v.Spec.NodeName = "node-2" }, nil},
		{"reclaim policy changed", pinned, func(v *PersistentVolume) { v.Spec.ReclaimPolicy = ReclaimDelete }, nil},
		{"data moved", placed, func(v *PersistentVolume) { v.Status.NodeName = "node-3" }, []string{"forbidden status.nodeName"}},
		{"data forgotten", placed, func(v *PersistentVolume) { v.Status.NodeName = "" }, []string{"forbidden status.nodeName"}},
		{"pin moved", pinned, func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-3", "node-3" },
			[]string{"forbidden spec.nodeName", "forbidden status.nodeName"}},
		{"pin removed", pinned, func(v *PersistentVolume) { v.Spec.NodeName = "" }, []string{"forbidden spec.nodeName"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := clone(t, tc.old)
			tc.change(next)
			errs := append(Validate(next), ValidateUpdate(tc.old, next)...)
			assertErrors(t, errs, tc.want)
		})
	}
}

func TestPersistentVolumeNames(t *testing.T) {
	spec := &PodSpec{Volumes: []Volume{
		{Name: "a", VolumeSource: VolumeSource{Persistent: &PersistentVolumeSource{Name: "data"}}},
		{Name: "scratch", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{}}},
		{Name: "b", VolumeSource: VolumeSource{Persistent: &PersistentVolumeSource{Name: "logs"}}},
		{Name: "c", VolumeSource: VolumeSource{Persistent: &PersistentVolumeSource{Name: "data"}}},
	}}
	if got, want := PersistentVolumeNames(spec), []string{"data", "logs"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PersistentVolumeNames = %v, want %v", got, want)
	}
	if got := PersistentVolumeNames(&PodSpec{}); got != nil {
		t.Errorf("a pod without volumes uses %v", got)
	}
}
