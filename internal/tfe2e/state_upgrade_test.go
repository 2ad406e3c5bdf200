package tfe2e_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// shapeConfig has one of each resource that was flat before schema
// version 1 (namespace, config map, secret, autoscaler), in the shape
// they have now.
const shapeConfig = providerBlock + `
resource "maestro_namespace" "app" {
  metadata {
    name   = "upgraded"
    labels = { team = "a" }
  }
}

resource "maestro_config_map" "settings" {
  metadata {
    namespace   = maestro_namespace.app.metadata.name
    name        = "settings"
    annotations = { note = "kept" }
  }

  data = { greeting = "hello" }
}

resource "maestro_secret" "db" {
  metadata {
    namespace = maestro_namespace.app.metadata.name
    name      = "db"
  }

  data            = { username = "app" }
  data_wo         = { password = "wr1te-0nly" }
  data_wo_version = 1
}

resource "maestro_autoscaler" "web" {
  metadata {
    namespace = maestro_namespace.app.metadata.name
    name      = "web"
  }

  spec {
    max_replicas = 4
    target {
      name = "web"
    }
    metric {
      resource            = "cpu"
      average_utilization = 50
    }
  }
}
`

// flatTypes are the resource types whose version 0 state was flat; the
// value says whether spec's contents were at the top level too.
var flatTypes = map[string]bool{"maestro_namespace": false, "maestro_config_map": false, "maestro_secret": false, "maestro_autoscaler": true}

// TestStateUpgradeFromFlatShape: a state written by the provider before
// namespace, config map, secret and autoscaler had their metadata (and
// spec) blocks is read by this provider with the configuration rewritten
// to the new shape and plans no change (nothing replaced, no value lost);
// a refresh stores it as version 1, the secret's data kept.
func TestStateUpgradeFromFlatShape(t *testing.T) {
	t.Parallel()
	c := startAPIOnly(t)
	w := newWorkspace(t, map[string]string{"main.tf": shapeConfig})
	w.setVar("config_path", c.ConfigPath)
	w.mustApply()

	statePath := filepath.Join(w.dir, "terraform.tfstate")
	state := readState(t, statePath)
	flattened := 0
	for _, r := range state["resources"].([]any) {
		r := r.(map[string]any)
		spec, ok := flatTypes[r["type"].(string)]
		if !ok {
			continue
		}
		for _, inst := range r["instances"].([]any) {
			toVersion0(inst.(map[string]any), spec)
			flattened++
		}
	}
	if flattened != len(flatTypes) {
		t.Fatalf("flattened %d resource instances, want %d", flattened, len(flatTypes))
	}
	state["serial"] = json.Number("1000")
	writeState(t, statePath, state)

	w.wantPlan(0)

	r := w.run(nil, append([]string{"apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"}, w.vars...)...)
	if r.code != 0 {
		t.Fatalf("refresh failed\n%s", r)
	}
	for _, res := range readState(t, statePath)["resources"].([]any) {
		res := res.(map[string]any)
		if _, ok := flatTypes[res["type"].(string)]; !ok {
			continue
		}
		inst := res["instances"].([]any)[0].(map[string]any)
		attrs := inst["attributes"].(map[string]any)
		if v := inst["schema_version"]; v != json.Number("1") {
			t.Errorf("%s: schema_version %v after refresh, want 1", res["type"], v)
		}
		md, _ := attrs["metadata"].(map[string]any)
		if md == nil || md["name"] == nil || md["uid"] == nil || md["uid"] == "" {
			t.Errorf("%s: metadata %v after refresh, want name and the server's uid", res["type"], md)
		}
		if res["type"] == "maestro_secret" {
			data, _ := attrs["data"].(map[string]any)
			if data["username"] != "app" || attrs["data_wo"] != nil || attrs["data_wo_version"] != json.Number("1") {
				t.Errorf("secret after upgrade: data %v, data_wo %v, data_wo_version %v; want username kept, no write-only value, version 1",
					data, attrs["data_wo"], attrs["data_wo_version"])
			}
		}
	}
	// A write-only value's version did not change: it was not sent again.
	sec, err := c.Client.Secrets("upgraded").Get(t.Context(), "db")
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["password"]) != "wr1te-0nly" || string(sec.Data["username"]) != "app" {
		t.Errorf("secret data keys %v after the upgrade, want username and password as applied", dataKeys(sec.Data))
	}
}

// toVersion0 rewrites a resource instance of the state as the provider
// wrote it before version 1: metadata's attributes at the top level (no
// uid but the namespace's), and spec's too when spec is true.
func toVersion0(inst map[string]any, spec bool) {
	attrs := inst["attributes"].(map[string]any)
	md := attrs["metadata"].(map[string]any)
	delete(attrs, "metadata")
	for k, v := range md {
		attrs[k] = v
	}
	if _, namespaced := md["namespace"]; namespaced {
		delete(attrs, "uid")
	}
	if spec {
		for k, v := range attrs["spec"].(map[string]any) {
			attrs[k] = v
		}
		delete(attrs, "spec")
	}
	inst["schema_version"] = json.Number("0")
}

func readState(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var s map[string]any
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return s
}

func writeState(t *testing.T, path string, s map[string]any) {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func dataKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
