package plan

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// deploymentAttrs is the attribute tree of a deployment as a manifest
// writes it.
func deploymentAttrs(name string, replicas any, image string, extra ...func(map[string]any)) map[string]any {
	t := map[string]any{
		"metadata": map[string]any{"name": name, "namespace": "default", "labels": map[string]any{"app": name}},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"match_labels": map[string]any{"app": name}},
			"template": map[string]any{
				"labels": map[string]any{"app": name},
				"container": []any{map[string]any{
					"name": "app", "image": image,
					"resources": map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "64Mi"}},
				}},
			},
		},
	}
	for _, f := range extra {
		f(t)
	}
	return t
}

func deploymentObject(name string, replicas int32, rv int64) *api.Deployment {
	d := &api.Deployment{}
	d.Name, d.Namespace, d.ResourceVersion = name, "default", rv
	d.Spec.Replicas = api.Ptr(replicas)
	return d
}

func res(addr, kind string, attrs map[string]any, obj api.Object) Resource {
	name := addr[strings.Index(addr, ".")+1:]
	return Resource{Address: addr, Kind: kind, Namespace: "default", Name: name, Attrs: attrs, Object: obj}
}

func TestCompute(t *testing.T) {
	forceNew := map[string][]string{"Deployment": {"metadata.name", "metadata.namespace", "spec.selector.match_labels"}}
	withSelector := func(t map[string]any) {
		t["spec"].(map[string]any)["selector"] = map[string]any{"match_labels": map[string]any{"app": "web", "tier": "front"}}
	}
	tests := []struct {
		name         string
		desired      []Resource
		actual       []Resource
		opt          Options
		want         map[string]Action
		replacePaths []string
		impact       []string
	}{{
		name:    "create",
		desired: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1"), deploymentObject("web", 3, 0))},
		want:    map[string]Action{"deployment.web": Create},
	}, {
		name: "same values in other forms are no change",
		desired: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", json.Number("3"), "web:1", func(t map[string]any) {
			t["spec"].(map[string]any)["template"].(map[string]any)["container"].([]any)[0].(map[string]any)["resources"] =
				map[string]any{"requests": map[string]any{"cpu": "0.5", "memory": "64Mi"}}
			t["metadata"].(map[string]any)["annotations"] = map[string]any{}
			t["spec"].(map[string]any)["template"].(map[string]any)["container"].([]any)[0].(map[string]any)["args"] = []any{}
		}), deploymentObject("web", 3, 0))},
		actual: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", int64(3), "web:1"), deploymentObject("web", 3, 7))},
		want:   map[string]Action{"deployment.web": NoOp},
	}, {
		name:    "update",
		desired: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:2"), deploymentObject("web", 3, 0))},
		actual:  []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1"), deploymentObject("web", 3, 7))},
		want:    map[string]Action{"deployment.web": Update},
	}, {
		name:         "a changed force-new attribute replaces",
		desired:      []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1", withSelector), deploymentObject("web", 3, 0))},
		actual:       []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1"), deploymentObject("web", 3, 7))},
		opt:          Options{ForceNew: forceNew},
		want:         map[string]Action{"deployment.web": Replace},
		replacePaths: []string{"spec.selector.match_labels"},
	}, {
		name:   "removed objects are deleted with prune",
		actual: []Resource{res("config_map.old", "ConfigMap", map[string]any{"name": "old", "data": map[string]any{"a": "b"}}, nil)},
		opt:    Options{Prune: true},
		want:   map[string]Action{"config_map.old": Delete},
	}, {
		name:   "removed objects are left alone without prune",
		actual: []Resource{res("config_map.old", "ConfigMap", map[string]any{"name": "old"}, nil)},
		want:   map[string]Action{},
	}, {
		name: "replicas left out keep the live count",
		desired: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", nil, "web:1"),
			&api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}})},
		actual: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 5, "web:1"), deploymentObject("web", 5, 7))},
		want:   map[string]Action{"deployment.web": NoOp},
	}, {
		name:    "an autoscaler's replicas are not a diff",
		desired: []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 2, "web:1"), deploymentObject("web", 2, 0))},
		actual:  []Resource{res("deployment.web", "Deployment", deploymentAttrs("web", 5, "web:1"), deploymentObject("web", 5, 7))},
		opt:     Options{Autoscaled: map[string]bool{"deployment.web": true}},
		want:    map[string]Action{"deployment.web": NoOp},
		impact:  []string{"deployment.web: replicas are owned by an autoscaler and left alone (live 5, manifest 2)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(tt.desired, tt.actual, tt.opt)
			got := map[string]Action{}
			for _, c := range p.Changes {
				got[c.Address] = c.Action
				if c.Action == Replace && !slices.Equal(c.ReplacePaths, tt.replacePaths) {
					t.Errorf("%s: replace paths %q, want %q", c.Address, c.ReplacePaths, tt.replacePaths)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("changes %v, want %v", got, tt.want)
			}
			for addr, a := range tt.want {
				if got[addr] != a {
					t.Errorf("%s: %s, want %s", addr, got[addr], a)
				}
			}
			if !slices.Equal(p.Impact, tt.impact) {
				t.Errorf("plan impact %q, want %q", p.Impact, tt.impact)
			}
		})
	}
}

func TestComputeSortsAndCounts(t *testing.T) {
	desired := []Resource{
		res("service.web", "Service", map[string]any{"metadata": map[string]any{"name": "web"}}, nil),
		res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:2"), deploymentObject("web", 3, 0)),
		res("deployment.api", "Deployment", deploymentAttrs("api", 1, "api:1", func(t map[string]any) {
			t["metadata"].(map[string]any)["name"] = "api2"
		}), deploymentObject("api2", 1, 0)),
	}
	actual := []Resource{
		res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1"), deploymentObject("web", 3, 4)),
		res("deployment.api", "Deployment", deploymentAttrs("api", 1, "api:1"), deploymentObject("api", 1, 5)),
		res("config_map.old", "ConfigMap", map[string]any{"name": "old"}, nil),
	}
	p := Compute(desired, actual, Options{Prune: true, ForceNew: map[string][]string{"Deployment": {"metadata.name"}}})
	var addrs []string
	for _, c := range p.Changes {
		addrs = append(addrs, c.Address)
	}
	if want := []string{"config_map.old", "deployment.api", "deployment.web", "service.web"}; !slices.Equal(addrs, want) {
		t.Fatalf("addresses %q, want %q (sorted)", addrs, want)
	}
	add, change, destroy := p.Counts()
	if add != 2 || change != 1 || destroy != 2 {
		t.Errorf("Counts() = %d, %d, %d; want 2 to add (create, replace), 1 to change, 2 to destroy (delete, replace)", add, change, destroy)
	}
	if !p.HasChanges() {
		t.Error("HasChanges() = false")
	}
	if got := p.Destroying(); !slices.Equal(got, []string{"config_map.old", "deployment.api"}) {
		t.Errorf("Destroying() = %q", got)
	}
	if c := p.Changes[2]; c.ResourceVersion != "4" {
		t.Errorf("deployment.web: resourceVersion %q, want the live object's 4", c.ResourceVersion)
	}
}

func TestHash(t *testing.T) {
	secret := func(value string) []Resource {
		return []Resource{res("secret.db", "Secret", map[string]any{"name": "db", "data": map[string]any{"password": value}}, nil)}
	}
	opt := Options{Sensitive: map[string][]string{"Secret": {"data"}}}
	base := Compute(secret("hunter2"), nil, opt)
	later := Compute(secret("hunter2"), nil, opt)
	later.Created = time.Now()
	if base.Hash() != later.Hash() {
		t.Error("the hash depends on when the plan was made")
	}
	if len(base.Hash()) != 64 {
		t.Errorf("hash %q: want 64 hex digits", base.Hash())
	}
	if other := Compute(secret("correct horse"), nil, opt); other.Hash() != base.Hash() {
		t.Error("the hash depends on a sensitive value: a published hash would let a reader test guesses of the secret")
	}
	changed := Compute([]Resource{res("secret.db", "Secret", map[string]any{"name": "db2"}, nil)}, nil, opt)
	if changed.Hash() == base.Hash() {
		t.Error("plans with different changes have the same hash")
	}
	noop := &Plan{Changes: []Change{{Address: "a.b", Action: NoOp}}}
	if noop.HasChanges() {
		t.Error("a plan of no-ops has changes")
	}
}

func TestMask(t *testing.T) {
	tree := map[string]any{"name": "db", "data": map[string]any{"password": "hunter2"}, "string_data": nil}
	got := Mask(tree, []string{"data", "string_data"})
	if got["data"] != SensitiveValue || got["name"] != "db" || got["string_data"] != nil {
		t.Errorf("Mask = %v", got)
	}
	if tree["data"].(map[string]any)["password"] != "hunter2" {
		t.Error("Mask changed its input")
	}
}

// TestSecretDataAlwaysSensitive: a Secret's data is never printed, even
// when the caller declares no sensitive paths.
func TestSecretDataAlwaysSensitive(t *testing.T) {
	p := Compute([]Resource{res("secret.db", "Secret", map[string]any{"name": "db", "data": map[string]any{"password": "x"}}, nil)}, nil, Options{})
	if c := p.Changes[0]; !c.IsSensitive("data.password") || c.IsSensitive("name") {
		t.Errorf("sensitive paths %q: want data and not name", c.Sensitive)
	}
}

// TestComputeAgainstItselfIsNoop: whatever the objects, a cluster that
// has exactly what the manifests say gives a plan with no changes, no
// impact, and the empty plan's hash.
func TestComputeAgainstItselfIsNoop(t *testing.T) {
	resources := []Resource{
		res("deployment.web", "Deployment", deploymentAttrs("web", 3, "web:1", withStrategy("Recreate", "", "")), deploymentObject("web", 3, 2)),
		res("deployment.api", "Deployment", deploymentAttrs("api", 0, "api:1"), deploymentObject("api", 0, 3)),
		res("secret.db", "Secret", map[string]any{"name": "db", "data": map[string]any{"k": "v"}}, nil),
		{Address: "node_pool.p", Kind: "NodePool", Name: "p", Attrs: map[string]any{"name": "p", "size": 2, "local": map[string]any{}}},
		res("pod.one", "Pod", map[string]any{"metadata": map[string]any{"name": "one"}, "spec": map[string]any{"container": []any{map[string]any{"image": "x"}}}}, nil),
	}
	opt := Options{Prune: true, ForceNew: map[string][]string{"Deployment": {"metadata.name", "spec.selector.match_labels"}},
		Autoscaled: map[string]bool{"deployment.web": true},
		Previews:   map[string]api.PlacementPreview{"deployment.web": {Pods: 3, Placed: 1, Reason: "unchanged: not shown"}}}
	p := Compute(resources, resources, opt)
	if p.HasChanges() || len(p.Impact) > 0 || len(p.Changes) != len(resources) {
		t.Fatalf("changes %+v, impact %q", p.Changes, p.Impact)
	}
	for _, c := range p.Changes {
		if c.Action != NoOp || len(c.Impact) > 0 {
			t.Errorf("%s: %s %q", c.Address, c.Action, c.Impact)
		}
	}
	if add, change, destroy := p.Counts(); add+change+destroy != 0 {
		t.Errorf("Counts() = %d, %d, %d", add, change, destroy)
	}
	if p.Hash() != (&Plan{}).Hash() {
		t.Error("a plan of no-ops hashes unlike the empty plan")
	}
}
