package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

const volumeManifest = `
kind: Volume
metadata:
  name: scratch
  namespace: default
spec:
  reclaimPolicy: Delete
  nodeName: node-2
`

// maestro get volumes shows where each volume lives, its reclaim policy,
// phase and users; maestro delete volume says what becomes of the data.
func TestGetAndDeleteVolumes(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	vols := env.Client.Volumes("default")
	data, err := vols.Create(ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "data"}, Spec: api.PersistentVolumeSpec{NodeName: "node-1"}})
	if err != nil {
		t.Fatal(err)
	}
	// What the volume controller writes (it does not run here).
	data.Status.Phase, data.Status.UsedBy = api.VolumeBound, []string{"web-1", "web-2", "web-3"}
	if _, err := vols.UpdateStatus(ctx, data); err != nil {
		t.Fatal(err)
	}
	if _, err := vols.Create(ctx, &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Name: "fresh"}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "volume.yaml")
	if err := os.WriteFile(file, []byte(volumeManifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := run(t, cfg, "create", "-f", file); err != nil || !strings.Contains(out, "volume/scratch created") {
		t.Fatalf("create -f: %v %q", err, out)
	}

	out, _, err := run(t, cfg, "get", "volumes")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`(?m)^NAME\s+NODE\s+RECLAIM\s+STATUS\s+USED BY\s+AGE$`,
		`(?m)^data\s+node-1\s+Retain\s+Bound\s+web-1,web-2 \+ 1 more\.\.\.\s+\d+s$`,
		`(?m)^fresh\s+<none>\s+Retain\s+Pending\s+<none>\s+\d+s$`,
		`(?m)^scratch\s+node-2\s+Delete\s+Available\s+<none>\s+\d+s$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("get volumes lacks %s:\n%s", want, out)
		}
	}

	for _, tc := range []struct{ name, want string }{
		{"data", "volume/data deleted: in use by pods web-1, web-2, web-3, so it goes once no pod uses it; its data stays on node node-1 (reclaim policy Retain)"},
		{"scratch", "volume/scratch deleted: its data on node node-2 is removed (reclaim policy Delete)"},
		{"fresh", "volume/fresh deleted"},
	} {
		if out, _, err := run(t, cfg, "delete", "vol", tc.name); err != nil || strings.TrimSpace(out) != tc.want {
			t.Errorf("delete %s: %v\n got  %q\n want %q", tc.name, err, strings.TrimSpace(out), tc.want)
		}
	}
	out, _, err = run(t, cfg, "get", "volume", "data")
	if err != nil || !regexp.MustCompile(`(?m)^data\s+node-1\s+Retain\s+Terminating\s`).MatchString(out) {
		t.Errorf("get a deleted volume held by its pods: %v\n%s", err, out)
	}
}
