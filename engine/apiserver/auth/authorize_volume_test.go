package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// fakeVolumes is a VolumeLookup over a fixed set of volumes.
type fakeVolumes struct {
	vols []*api.PersistentVolume
	err  error
}

func (f *fakeVolumes) Volume(_ context.Context, namespace, name string) (*api.PersistentVolume, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, v := range f.vols {
		if v.Namespace == namespace && v.Name == name {
			return v, nil
		}
	}
	return nil, nil
}

func volumeOn(namespace, name, node string) *api.PersistentVolume {
	return &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Namespace: namespace, Name: name},
		Status: api.PersistentVolumeStatus{NodeName: node}}
}

func usesVolume(name string) func(*api.PodSpec) {
	return func(s *api.PodSpec) {
		s.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: name}}}}
	}
}

// A node reads the volumes it holds or its pods use (to check where their
// data is), lists and watches only those it holds, and updates only those
// (to release the data finalizer once it removed the data).
func TestAuthorizeNodeVolumes(t *testing.T) {
	authz := &Authorizer{
		Pods: &fakePods{pods: []*api.Pod{
			podOn("default", "db", "node-1", usesVolume("db-data")),
			podOn("default", "misplaced", "node-1", usesVolume("elsewhere")),
			podOn("default", "other", "node-2", usesVolume("other-data")),
		}},
		Volumes: &fakeVolumes{vols: []*api.PersistentVolume{
			volumeOn("default", "db-data", "node-1"),
			volumeOn("default", "kept", "node-1"), // unused, still on node-1
			volumeOn("default", "elsewhere", "node-2"),
			volumeOn("default", "other-data", "node-2"),
			volumeOn("team-a", "db-data", "node-2"),
		}},
	}
	cases := []struct {
		name  string
		req   Request
		allow bool
		inMsg string
	}{
		{"get a volume it holds", req(VerbGet, "volumes", "default", "db-data"), true, ""},
		{"get an unused volume it holds", req(VerbGet, "volumes", "default", "kept"), true, ""},
		{"get a volume its pod uses on another node", req(VerbGet, "volumes", "default", "elsewhere"), true, ""},
		{"get another node's volume", req(VerbGet, "volumes", "default", "other-data"), false, "no pod bound to this node uses it"},
		{"get a same-named volume in another namespace", req(VerbGet, "volumes", "team-a", "db-data"), false, "no pod bound to this node uses it"},
		{"get a missing volume", req(VerbGet, "volumes", "default", "ghost"), false, "no pod bound to this node uses it"},
		{"list the volumes it holds", req(VerbList, "volumes").pinned("node-1"), true, ""},
		{"watch the volumes it holds", req(VerbWatch, "volumes", "default").pinned("node-1"), true, ""},
		{"list every volume", req(VerbList, "volumes"), false, "fieldSelector status.nodeName=node-1"},
		{"watch another node's volumes", req(VerbWatch, "volumes").pinned("node-2"), false, "fieldSelector status.nodeName=node-1"},
		{"update a volume it holds", req(VerbUpdate, "volumes", "default", "kept"), true, ""},
		{"update a volume its pod uses elsewhere", req(VerbUpdate, "volumes", "default", "elsewhere"), false, "does not live on this node"},
		{"update the status of a volume it holds", req(VerbUpdate, "volumes", "default", "kept").sub("status"), false, "update only those on it"},
		{"delete a volume it holds", req(VerbDelete, "volumes", "default", "kept"), false, "update only those on it"},
		{"create a volume", req(VerbCreate, "volumes", "default").with(volumeOn("default", "new", "node-1")), false, "update only those on it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := authz.Authorize(t.Context(), node1, tc.req)
			switch {
			case tc.allow && err != nil:
				t.Fatalf("denied: %v", err)
			case !tc.allow && (err == nil || !api.IsForbidden(err)):
				t.Fatalf("got %v, want 403", err)
			case !tc.allow && !strings.Contains(err.Error(), tc.inMsg):
				t.Fatalf("message %q lacks %q", err, tc.inMsg)
			}
		})
	}
}

func TestAuthorizeNodeVolumeLookupError(t *testing.T) {
	boom := errors.New("store unavailable")
	authz := &Authorizer{Pods: &fakePods{}, Volumes: &fakeVolumes{err: boom}}
	if err := authz.Authorize(t.Context(), node1, req(VerbGet, "volumes", "default", "db-data")); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the lookup error", err)
	}
}

func TestPodReferencesVolume(t *testing.T) {
	spec := podOn("default", "db", "node-1", usesVolume("db-data")).Spec
	if !PodReferences(&spec, "Volume", "db-data") {
		t.Error("a pod does not reference the persistent volume it mounts")
	}
	if PodReferences(&spec, "ConfigMap", "db-data") || PodReferences(&spec, "Volume", "data") {
		t.Error("a pod references a volume by its kind's or its mount's name")
	}
}
