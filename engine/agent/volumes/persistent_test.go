package volumes

import (
	"errors"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

func TestPersistentVolumeName(t *testing.T) {
	if got := PersistentVolumeName("node-1", "shop", "data"); got != "maestro-pv-node-1_shop_data" {
		t.Fatalf("got %q", got)
	}
	for _, pair := range [][2]string{
		{PersistentVolumeName("a-b", "ns", "c"), PersistentVolumeName("a", "b-ns", "c")},
		{PersistentVolumeName("n", "team-a", "data"), PersistentVolumeName("n", "team", "a-data")},
	} {
		if pair[0] == pair[1] {
			t.Fatalf("names of different volumes collide: %s", pair[0])
		}
	}
	if !strings.HasPrefix(PersistentVolumeName("node-1", "shop", "data"), PersistentVolumePrefix("node-1")) ||
		strings.HasPrefix(PersistentVolumeName("node-10", "shop", "data"), PersistentVolumePrefix("node-1")) {
		t.Fatal("the node prefix does not select exactly the node's volumes")
	}
}

// A pod mounts its Volume's data only on the node the Volume lives on; the
// agent refuses anywhere else rather than start it on an empty copy.
func TestPersistent(t *testing.T) {
	e := newEnv(t)
	vols := []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: "pgdata"}}}}
	e.src.setVolume("pgdata", "node-1")
	mounts, err := e.setup(t, testPod("uid-1", vols, api.VolumeMount{Name: "data", MountPath: "/var/lib/pg"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]runtime.Mount{"app": {{VolumeName: "maestro-pv-node-1_ns_pgdata", ContainerPath: "/var/lib/pg"}}}
	if !equalMounts(mounts, want) {
		t.Fatalf("mounts = %+v, want %+v", mounts, want)
	}
	_, err = e.setup(t, testPod("uid-2", vols, api.VolumeMount{Name: "data", MountPath: "/x", SubPath: "sub"}))
	if err == nil || !strings.Contains(err.Error(), "subPath is not supported") {
		t.Fatalf("err = %v", err)
	}
	if _, err := e.m.Setup(t.Context(), testPod("uid-3", vols), ""); err == nil {
		t.Fatal("no error without a node name")
	}
}

func TestPersistentElsewhere(t *testing.T) {
	vols := []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: "pgdata"}}}}
	for _, tc := range []struct {
		name string
		node string // where the Volume lives; "-" for no Volume
		want string
	}{
		{"on another node", "node-2", `volume "pgdata" lives on node "node-2", not on this one`},
		{"on no node yet", "", `volume "pgdata" is on no node yet`},
		{"no Volume yet", "-", `volume "pgdata" is on no node yet`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.node != "-" {
				e.src.setVolume("pgdata", tc.node)
			}
			_, err := e.setup(t, testPod("uid-1", vols, api.VolumeMount{Name: "data", MountPath: "/data"}))
			var ee *ElsewhereError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `volume "data"`) {
				t.Fatalf("err = %v; want an ElsewhereError saying %q", err, tc.want)
			}
		})
	}
	// An API failure is not "elsewhere".
	e := newEnv(t)
	e.src.err = errors.New("connection refused")
	_, err := e.setup(t, testPod("uid-1", vols, api.VolumeMount{Name: "data", MountPath: "/data"}))
	var ee *ElsewhereError
	if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v; want the read error", err)
	}
}
