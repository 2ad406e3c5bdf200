package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestSaveLoad(t *testing.T) {
	secret := &api.Secret{Data: map[string][]byte{"password": []byte("hunter2")}}
	secret.Name, secret.Namespace = "db", "default"
	desired := []Resource{
		res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:2"), deploymentObject("web", 3, 0)),
		res("secret.db", "Secret", map[string]any{"metadata": map[string]any{"name": "db"}, "data": map[string]any{"password": "hunter2"}}, secret),
	}
	actual := []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 2, "web:1"), deploymentObject("web", 2, 12))}
	p := Compute(desired, actual, Options{Sensitive: map[string][]string{"Secret": {"data"}}})
	var buf bytes.Buffer
	in := &Saved{Version: SavedVersion, Plan: p, Seen: map[string]string{"deployment.web": "12", "secret.db": ""}, Dir: "manifests"}
	if err := Save(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if out.Dir != "manifests" || out.Seen["deployment.web"] != "12" || len(out.Plan.Changes) != 2 {
		t.Fatalf("loaded %+v", out)
	}
	if out.Plan.Hash() != p.Hash() {
		t.Error("the loaded plan's hash differs from the saved one's")
	}
	d, ok := out.Plan.Changes[0].Desired.(*api.Deployment)
	if !ok || api.Deref(d.Spec.Replicas, 0) != 3 || d.Name != "web" {
		t.Errorf("desired deployment came back as %#v", out.Plan.Changes[0].Desired)
	}
	s, ok := out.Plan.Changes[1].Desired.(*api.Secret)
	if !ok || string(s.Data["password"]) != "hunter2" {
		t.Errorf("desired secret came back as %#v", out.Plan.Changes[1].Desired)
	}
	if got := out.Plan.Changes[0].Impact; !slices.Equal(got, p.Changes[0].Impact) {
		t.Errorf("impact %q, want %q", got, p.Changes[0].Impact)
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"another version", `{"format":"maestro-plan","version":99,"plan":{"changes":[]}}`, "version 99"},
		{"not a maestro plan", `{"format_version":"1.2"}`, "not a maestro plan"},
		{"an unknown kind", `{"format":"maestro-plan","version":1,"plan":{"changes":[{"address":"x.y","action":"create"}]},` +
			`"objects":{"x.y":{"kind":"Gizmo","object":{}}}}`, `objects["x.y"].kind`},
		{"not JSON", `PK...`, "reading saved plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestStale(t *testing.T) {
	saved := &Saved{Seen: map[string]string{"deployment.web": "12", "service.web": "", "config_map.a": "4", "secret.b": "9"}}
	tests := []struct {
		name string
		now  map[string]string
		want []string
	}{
		{"current", map[string]string{"deployment.web": "12", "config_map.a": "4", "secret.b": "9"}, nil},
		{"changed, created and deleted since", map[string]string{"deployment.web": "15", "service.web": "20", "secret.b": "9"}, []string{
			"config_map.a: deleted since the plan (resourceVersion was 4)",
			"deployment.web: changed since the plan (resourceVersion 12 -> 15)",
			"service.web: created since the plan (resourceVersion 20)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Stale(saved, tt.now); !slices.Equal(got, tt.want) {
				t.Errorf("Stale =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestSavedTreesUseJSONNumbers: numbers come back exact, and compare equal
// to the ints a fresh plan holds.
func TestSavedTreesUseJSONNumbers(t *testing.T) {
	p := Compute([]Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1"), nil)}, nil, Options{})
	var buf bytes.Buffer
	if err := Save(&buf, &Saved{Version: SavedVersion, Plan: p, Seen: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	out, err := Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := Lookup(out.Plan.Changes[0].After, "spec.replicas")
	if _, ok := got.(json.Number); !ok || !Equal("spec.replicas", got, 3) {
		t.Errorf("spec.replicas came back as %#v", got)
	}
}
