package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

func withVolume(name, volume string, labels map[string]string) *api.Pod {
	return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: labels}, Spec: api.PodSpec{
		Volumes: []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: volume}}}},
	}}
}

// The first pod to use a volume puts it on its node (creating the Volume,
// or placing a declared one); every later pod of the volume goes there.
func TestSchedulerPlacesVolumesOnFirstUse(t *testing.T) {
	cl := startCluster(t, false)
	cl.createNodes()
	ctx := context.Background()
	vols := cl.c.Volumes("default")

	// Three pods at once on a volume that does not exist: one node.
	for _, name := range []string{"a", "b", "c"} {
		cl.createPod(withVolume(name, "data", map[string]string{"app": "first-use"}), "100Mi")
	}
	pods := cl.waitPods("app=first-use", 20*time.Second, func(ps []*api.Pod) bool { return bound(ps) == 3 })
	home := pods[0].Spec.NodeName
	for _, p := range pods {
		if p.Spec.NodeName != home {
			t.Fatalf("pods of one volume on %s and %s", home, p.Spec.NodeName)
		}
	}
	v, err := vols.Get(ctx, "data")
	if err != nil {
		t.Fatal(err)
	}
	if v.Spec.NodeName != home || v.Status.NodeName != home || v.Annotations[scheduler.AnnotationCreatedFor] == "" {
		t.Fatalf("volume created on first use: spec %+v, status %+v, annotations %v; want it on %s", v.Spec, v.Status, v.Annotations, home)
	}

	// A volume declared without a node goes where its first pod goes.
	if _, err := vols.Create(ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "declared", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	cl.createPod(withVolume("d", "declared", map[string]string{"app": "declared"}), "100Mi")
	d := cl.waitPods("app=declared", 20*time.Second, func(ps []*api.Pod) bool { return bound(ps) == 1 })[0]
	if v, err := vols.Get(ctx, "declared"); err != nil || v.Status.NodeName != d.Spec.NodeName || v.Spec.NodeName != "" {
		t.Fatalf("declared volume after its first pod: %+v, %v; want status.nodeName %s and no pin", v, err, d.Spec.NodeName)
	}

	// A pod that may not go where its data is waits, and says why.
	other := "node-0"
	if home == other {
		other = "node-1"
	}
	stray := withVolume("stray", "data", map[string]string{"app": "stray"})
	stray.Spec.NodeSelector = map[string]string{api.LabelHostname: other}
	cl.createPod(stray, "100Mi")
	want := `volume "data" is on node "` + home + `"`
	cl.waitPods("app=stray", 20*time.Second, func(ps []*api.Pod) bool {
		return len(ps) == 1 && ps[0].Spec.NodeName == "" && strings.Contains(unschedulableMessage(ps[0]), want)
	})
}
