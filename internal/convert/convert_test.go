package convert

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/schema"
)

// tree parses an attribute tree written as JSON (numbers become int64).
func tree(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return ints(m).(map[string]any)
}

func ints(v any) any {
	switch v := v.(type) {
	case json.Number:
		n, _ := v.Int64()
		return n
	case map[string]any:
		for k, e := range v {
			v[k] = ints(e)
		}
	case []any:
		for i, e := range v {
			v[i] = ints(e)
		}
	}
	return v
}

const podSpec = `
  "restart_policy": "Always", "termination_grace_period_seconds": 20, "node_selector": {"disk": "ssd"},
  "container": [{
    "name": "web", "image": "demo:1", "args": ["serve"], "command": ["/demo"],
    "env": [{"name": "A", "value": "1"}, {"name": "B", "value_from": {"config_map_key_ref": {"name": "cm", "key": "b"}}},
            {"name": "C", "value_from": {"secret_key_ref": {"name": "s", "key": "c"}}}, {"name": "D", "value_from": {"field_ref": {"field_path": "status.podIP"}}}],
    "port": [{"name": "http", "container_port": 8080, "protocol": "TCP"}],
    "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "volume_mount": [{"name": "data", "mount_path": "/data", "sub_path": "x", "read_only": true}],
    "liveness_probe": {"initial_delay_seconds": 1, "period_seconds": 10, "timeout_seconds": 1, "success_threshold": 1, "failure_threshold": 3,
                       "http_get": {"path": "/healthz", "port": "http", "scheme": "HTTP"}},
    "readiness_probe": {"initial_delay_seconds": 0, "period_seconds": 5, "timeout_seconds": 1, "success_threshold": 1, "failure_threshold": 3, "tcp_socket": {"port": "8080"}},
    "startup_probe": {"initial_delay_seconds": 0, "period_seconds": 5, "timeout_seconds": 1, "success_threshold": 1, "failure_threshold": 30, "exec": {"command": ["true"]}},
    "env_from": [{"prefix": "CM_", "config_map_ref": {"name": "cm", "optional": true}}, {"secret_ref": {"name": "s"}}],
    "security_context": {"run_as_user": 1000, "run_as_non_root": true, "read_only_root_filesystem": true, "allow_privilege_escalation": false,
                         "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}
  }],
  "security_context": {"run_as_user": 1000, "run_as_group": 1000, "run_as_non_root": true},
  "image_pull_secrets": [{"name": "registry"}],
  "volume": [{"name": "data", "empty_dir": {"medium": "Memory", "size_limit": "64Mi"}}, {"name": "h", "host_path": {"path": "/var", "type": "Directory"}},
             {"name": "c", "config_map": {"name": "cm"}}, {"name": "s", "secret": {"secret_name": "s"}}, {"name": "p", "persistent": {"name": "vol"}}],
  "affinity": {
    "node_affinity": {"required_term": [{"match_expression": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}],
                      "preferred": [{"weight": 10, "match_expression": [{"key": "disk", "operator": "Exists"}]}]},
    "pod_affinity": {"preferred": [{"weight": 5, "topology_key": "zone", "label_selector": {"match_labels": {"app": "db"}}}]},
    "pod_anti_affinity": {"required": [{"topology_key": "kubernetes.io/hostname", "namespaces": ["shop"], "label_selector": {"match_labels": {"app": "web"},
                          "match_expression": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}}]}
  },
  "toleration": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule", "toleration_seconds": 30}],
  "topology_spread_constraint": [{"max_skew": 1, "topology_key": "zone", "when_unsatisfiable": "DoNotSchedule", "label_selector": {"match_labels": {"app": "web"}}}]
`

// roundTrips are one attribute tree per kind, as ToAttrs writes them.
var roundTrips = map[string]string{
	"namespace":  `{"metadata": {"name": "shop", "labels": {"team": "a"}, "annotations": {"note": "x"}}}`,
	"config_map": `{"metadata": {"namespace": "shop", "name": "cm", "labels": {"a": "b"}}, "data": {"k": "v"}}`,
	"secret":     `{"metadata": {"namespace": "shop", "name": "s"}, "type": "Opaque", "data": {"password": "hunter2"}}`,
	"volume":     `{"metadata": {"namespace": "shop", "name": "data"}, "spec": {"reclaim_policy": "Delete", "node_name": "node-1"}}`,
	"service": `{"metadata": {"namespace": "shop", "name": "web", "labels": {"app": "web"}},
	             "spec": {"type": "NodePort", "selector": {"app": "web"}, "session_affinity": "ClientIP", "cluster_ip": "10.0.0.9",
	                      "port": [{"name": "http", "protocol": "TCP", "port": 80, "target_port": "http", "node_port": 30080}, {"name": "m", "protocol": "UDP", "port": 9, "target_port": "9"}]}}`,
	"deployment": `{"metadata": {"namespace": "shop", "name": "web", "annotations": {"a": "b"}},
	                "spec": {"replicas": 3, "min_ready_seconds": 5, "progress_deadline_seconds": 120, "selector": {"match_labels": {"app": "web"}},
	                         "strategy": {"type": "RollingUpdate", "rolling_update": {"max_surge": "1", "max_unavailable": "25%"}},
	                         "template": {"labels": {"app": "web"}, ` + podSpec + `}}}`,
	"pod": `{"metadata": {"namespace": "shop", "name": "debug"}, "spec": {` + podSpec + `}}`,
	"autoscaler": `{"metadata": {"namespace": "shop", "name": "web"}, "spec": {"target": {"kind": "Deployment", "name": "web"}, "min_replicas": 2, "max_replicas": 10,
	                "metric": [{"resource": "cpu", "average_utilization": 70}, {"resource": "memory", "average_value": "256Mi"}],
	                "behavior": {"scale_up": {"stabilization_window_seconds": 0, "select_policy": "Max", "policy": [{"type": "Pods", "value": 4, "period_seconds": 15}]},
	                             "scale_down": {"stabilization_window_seconds": 300}}}}`,
}

// TestRoundTrip: every kind's attribute tree survives conversion to its
// API object and back, so what a manifest says is what a plan compares.
func TestRoundTrip(t *testing.T) {
	for _, kind := range schema.Kinds() {
		t.Run(kind, func(t *testing.T) {
			src, ok := roundTrips[kind]
			if !ok {
				t.Fatalf("no round trip case for %s", kind)
			}
			attrs := tree(t, src)
			obj, err := FromAttrs(kind, attrs)
			if err != nil {
				t.Fatal(err)
			}
			if got := api.KindOf(obj).Kind; got != schema.APIKind(kind) {
				t.Fatalf("kind %s, want %s", got, schema.APIKind(kind))
			}
			back, err := ToAttrs(kind, obj)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, attrs) {
				a, _ := json.MarshalIndent(attrs, "", " ")
				b, _ := json.MarshalIndent(back, "", " ")
				t.Errorf("round trip differs:\nwant %s\ngot  %s", a, b)
			}
			// The tree decodes with the kind's HCL spec's types too.
			if _, err := ToObject(kind, ctyOf(t, attrs)); err != nil {
				t.Errorf("ToObject: %v", err)
			}
		})
	}
}

// ctyOf builds a cty value of a tree (objects for blocks and maps alike,
// which FromCty reads the same way).
func ctyOf(t *testing.T, v any) cty.Value {
	switch v := v.(type) {
	case string:
		return cty.StringVal(v)
	case bool:
		return cty.BoolVal(v)
	case int64:
		return cty.NumberIntVal(v)
	case map[string]any:
		m := map[string]cty.Value{}
		for k, e := range v {
			m[k] = ctyOf(t, e)
		}
		return cty.ObjectVal(m)
	case []any:
		l := make([]cty.Value, len(v))
		for i, e := range v {
			l[i] = ctyOf(t, e)
		}
		return cty.TupleVal(l)
	}
	t.Fatalf("no cty for %T", v)
	return cty.NilVal
}

func TestFromAttrsErrorsNamePaths(t *testing.T) {
	tests := []struct {
		kind, attrs, want string
	}{
		{"deployment", `{"metadata": {"name": "w", "namespace": "d"}, "spec": {"selector": {"match_labels": {"a": "b"}}, "template": {"container": [{"name": "w", "image": "i", "resources": {"limits": {"memory": "lots"}}}]}}}`,
			`spec.template.container[0].resources.limits.memory: "lots" is not a quantity`},
		{"deployment", `{"metadata": {"name": "w", "namespace": "d"}, "spec": {"selector": {"match_labels": {"a": "b"}}}}`, "spec.template: required block is missing"},
		{"pod", `{"metadata": {"name": "p", "namespace": "d"}, "spec": {"container": [{"name": "c", "image": "i", "working_dir": "/"}]}}`,
			"spec.container[0].working_dir: not supported"},
		{"autoscaler", `{"metadata": {"namespace": "d", "name": "a"}, "spec": {"max_replicas": 2}}`, "spec.target: required block is missing"},
		{"service", `{"metadata": {"name": "s", "namespace": "d"}, "spec": {"port": [{"port": "eighty"}]}}`, "spec.port[0].port: must be a whole number"},
	}
	for _, tt := range tests {
		_, err := FromAttrs(tt.kind, tree(t, tt.attrs))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.kind, err, tt.want)
		}
	}
}

// TestNormalizeAndAlign: quantities compare by value, defaults are no
// change, and what the manifest leaves to the server (replicas, an
// allocated cluster IP, others' labels) is no diff.
func TestNormalizeAndAlign(t *testing.T) {
	raw := tree(t, `{"metadata": {"namespace": "shop", "name": "web", "labels": {"app": "web"}},
	  "spec": {"selector": {"match_labels": {"app": "web"}}, "template": {"labels": {"app": "web"},
	  "container": [{"name": "web", "image": "demo", "resources": {"requests": {"cpu": "1000m", "memory": "1024Mi"}}}]}}}`)
	want, err := FromAttrs("deployment", raw)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := Copy(want)
	d := live.(*api.Deployment)
	d.Spec.Replicas = api.Ptr(int32(7)) // scaled outside the manifests
	d.Labels = map[string]string{"app": "web", "other-tool": "x", "maestro.dev/manifest-set": "s"}
	d.UID, d.ResourceVersion = "u", 12
	api.Default(d)
	w, err := Normalize("deployment", want)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Normalize("deployment", d)
	if err != nil {
		t.Fatal(err)
	}
	Align("deployment", raw, w, h, Applied{})
	if !reflect.DeepEqual(w, h) {
		a, _ := json.MarshalIndent(w, "", " ")
		b, _ := json.MarshalIndent(h, "", " ")
		t.Errorf("want and have differ:\n%s\n%s", a, b)
	}
	cpu := w["spec"].(map[string]any)["template"].(map[string]any)["container"].([]any)[0].(map[string]any)["resources"].(map[string]any)["requests"].(map[string]any)["cpu"]
	if cpu != "1" {
		t.Errorf("cpu 1000m normalised to %v, want 1", cpu)
	}

	upd, err := ForUpdate("deployment", want, d, false, Applied{})
	if err != nil {
		t.Fatal(err)
	}
	u := upd.(*api.Deployment)
	if *u.Spec.Replicas != 7 || u.ResourceVersion != 12 || u.Labels["other-tool"] != "x" {
		t.Errorf("ForUpdate lost what the server or others own: replicas %d rv %d labels %v", *u.Spec.Replicas, u.ResourceVersion, u.Labels)
	}
}

// TestAlignServerAllocated: a service's allocated cluster IP and node
// ports are no diff when the manifest leaves them out, and an update
// keeps them.
func TestAlignServerAllocated(t *testing.T) {
	raw := tree(t, `{"metadata": {"namespace": "shop", "name": "web"},
	  "spec": {"type": "NodePort", "selector": {"app": "web"}, "port": [{"port": 80}, {"port": 443, "node_port": 30443}]}}`)
	desired, err := FromAttrs("service", raw)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := Copy(desired)
	s := live.(*api.Service)
	s.Spec.ClusterIP = "10.0.0.7"
	s.Spec.Ports[0].NodePort = 31000
	api.Default(s)
	w, _ := Normalize("service", desired)
	h, _ := Normalize("service", live)
	Align("service", raw, w, h, Applied{})
	if !reflect.DeepEqual(w, h) {
		a, _ := json.Marshal(w)
		b, _ := json.Marshal(h)
		t.Errorf("allocated values are a diff:\n%s\n%s", a, b)
	}
	if got := h["spec"].(map[string]any)["port"].([]any)[1].(map[string]any)["node_port"]; got != int64(30443) {
		t.Errorf("a node port the manifest sets is compared: got %v", got)
	}
	upd, err := ForUpdate("service", desired, live, false, Applied{})
	if err != nil {
		t.Fatal(err)
	}
	u := upd.(*api.Service)
	if u.Spec.ClusterIP != "10.0.0.7" || u.Spec.Ports[0].NodePort != 31000 || u.Spec.Ports[1].NodePort != 30443 {
		t.Errorf("update lost allocated values: %s %+v", u.Spec.ClusterIP, u.Spec.Ports)
	}
}

// TestAlignAppliedKeys: a label or annotation key the last apply wrote
// and the manifest no longer names is a diff, and the update removes it;
// keys others set are neither.
func TestAlignAppliedKeys(t *testing.T) {
	raw := tree(t, `{"metadata": {"namespace": "shop", "name": "settings", "labels": {"app": "web"}}, "data": {"a": "1"}}`)
	desired, err := FromAttrs("config_map", raw)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := Copy(desired)
	cm := live.(*api.ConfigMap)
	cm.Labels = map[string]string{"app": "web", "tier": "front", "other-tool": "x"}
	cm.Annotations = map[string]string{"note": "old", "other-tool/seen": "y"}
	cm.UID, cm.ResourceVersion = "u", 3
	for _, tc := range []struct {
		name              string
		applied           Applied
		wantLabels        map[string]any // have's labels after Align
		wantAnnotations   map[string]any
		writtenLabels     map[string]string
		writtenAnnotation map[string]string
	}{
		{"nothing recorded: only the manifest's keys compared, none removed", Applied{},
			map[string]any{"app": "web"}, nil,
			map[string]string{"app": "web", "tier": "front", "other-tool": "x"},
			map[string]string{"note": "old", "other-tool/seen": "y"}},
		{"tier and note taken out of the manifest", Applied{Labels: []string{"app", "tier"}, Annotations: []string{"note"}},
			map[string]any{"app": "web", "tier": "front"}, map[string]any{"note": "old"},
			map[string]string{"app": "web", "other-tool": "x"},
			map[string]string{"other-tool/seen": "y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := Normalize("config_map", desired)
			h, _ := Normalize("config_map", live)
			Align("config_map", raw, w, h, tc.applied)
			meta := h["metadata"].(map[string]any)
			if got, _ := meta["labels"].(map[string]any); !reflect.DeepEqual(got, tc.wantLabels) {
				t.Errorf("compared labels %v, want %v", got, tc.wantLabels)
			}
			if got, _ := meta["annotations"].(map[string]any); !reflect.DeepEqual(got, tc.wantAnnotations) {
				t.Errorf("compared annotations %v, want %v", got, tc.wantAnnotations)
			}
			upd, err := ForUpdate("config_map", desired, live, false, tc.applied)
			if err != nil {
				t.Fatal(err)
			}
			u := upd.(*api.ConfigMap)
			if !reflect.DeepEqual(u.Labels, tc.writtenLabels) || !reflect.DeepEqual(u.Annotations, tc.writtenAnnotation) {
				t.Errorf("update writes labels %v annotations %v, want %v %v", u.Labels, u.Annotations, tc.writtenLabels, tc.writtenAnnotation)
			}
		})
	}
}
