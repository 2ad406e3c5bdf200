package plan

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func withStrategy(typ, surge, unavailable string) func(map[string]any) {
	return func(t map[string]any) {
		s := map[string]any{"type": typ}
		if surge != "" || unavailable != "" {
			s["rolling_update"] = map[string]any{"max_surge": surge, "max_unavailable": unavailable}
		}
		t["spec"].(map[string]any)["strategy"] = s
	}
}

// strategyObject sets the strategy the manifest's tree says on the object.
func strategyObject(d *api.Deployment, typ, surge, unavailable string) *api.Deployment {
	d.Spec.Strategy.Type = typ
	if surge != "" || unavailable != "" {
		d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxSurge: intOrString(surge), MaxUnavailable: intOrString(unavailable)}
	}
	return d
}

func TestDeploymentImpact(t *testing.T) {
	tests := []struct {
		name               string
		before, after      map[string]any // nil: create / delete
		live, desired      *api.Deployment
		autoscaled         bool
		forceNew           []string
		want               []string
		fromTreesOnlyAlike bool // the same lines from the trees alone (a Terraform plan)
	}{{
		name:   "template change: rolling update with the default 25%: surge rounds up, unavailable down",
		before: deploymentAttrs("web", 10, "web:1"), after: deploymentAttrs("web", 10, "web:2"),
		live: deploymentObject("web", 10, 3), desired: deploymentObject("web", 10, 0),
		want: []string{"rolling update of 10 pods (max surge 3, max unavailable 2)"}, fromTreesOnlyAlike: true,
	}, {
		name:   "counts as given",
		before: deploymentAttrs("web", 3, "web:1"), after: deploymentAttrs("web", 3, "web:2", withStrategy("RollingUpdate", "1", "0")),
		live: deploymentObject("web", 3, 3), desired: strategyObject(deploymentObject("web", 3, 0), "RollingUpdate", "1", "0"),
		want: []string{"rolling update of 3 pods (max surge 1, max unavailable 0)"}, fromTreesOnlyAlike: true,
	}, {
		name:   "percentages that come to 0 and 0 leave one pod unavailable, as Kubernetes does",
		before: deploymentAttrs("web", 3, "web:1"), after: deploymentAttrs("web", 3, "web:2", withStrategy("RollingUpdate", "0%", "10%")),
		live: deploymentObject("web", 3, 3), desired: strategyObject(deploymentObject("web", 3, 0), "RollingUpdate", "0%", "10%"),
		want: []string{"rolling update of 3 pods (max surge 0, max unavailable 1)"}, fromTreesOnlyAlike: true,
	}, {
		name:   "recreate",
		before: deploymentAttrs("web", 4, "web:1"), after: deploymentAttrs("web", 4, "web:2", withStrategy("Recreate", "", "")),
		live: deploymentObject("web", 4, 3), desired: strategyObject(deploymentObject("web", 4, 0), "Recreate", "", ""),
		want: []string{"recreate 4 pods (all stop before the new ones start)"}, fromTreesOnlyAlike: true,
	}, {
		name:   "scale",
		before: deploymentAttrs("web", 2, "web:1"), after: deploymentAttrs("web", 5, "web:1"),
		live: deploymentObject("web", 2, 3), desired: deploymentObject("web", 5, 0),
		want: []string{"scale from 2 to 5"}, fromTreesOnlyAlike: true,
	}, {
		name:   "template and scale: the rollout is of the new count",
		before: deploymentAttrs("web", 2, "web:1"), after: deploymentAttrs("web", 4, "web:2"),
		live: deploymentObject("web", 2, 3), desired: deploymentObject("web", 4, 0),
		want: []string{"rolling update of 4 pods (max surge 1, max unavailable 1)", "scale from 2 to 4"}, fromTreesOnlyAlike: true,
	}, {
		name:   "autoscaled: the live count rolls, no scale",
		before: deploymentAttrs("web", 6, "web:1"), after: deploymentAttrs("web", 2, "web:2"),
		live: deploymentObject("web", 6, 3), desired: deploymentObject("web", 2, 0), autoscaled: true,
		want: []string{"rolling update of 6 pods (max surge 2, max unavailable 1)"}, fromTreesOnlyAlike: true,
	}, {
		name:  "create",
		after: deploymentAttrs("web", 3, "web:1"), desired: deploymentObject("web", 3, 0),
		want: []string{"starts 3 pods"}, fromTreesOnlyAlike: true,
	}, {
		name:   "delete",
		before: deploymentAttrs("web", 4, "web:1"), live: deploymentObject("web", 4, 3),
		want: []string{"stops 4 pods"}, fromTreesOnlyAlike: true,
	}, {
		name:   "replace",
		before: deploymentAttrs("web", 2, "web:1"), after: deploymentAttrs("web2", 3, "web:1"),
		live: deploymentObject("web", 2, 3), desired: deploymentObject("web2", 3, 0), forceNew: []string{"metadata.name"},
		want: []string{"replaced: stops 2 pods, then starts 3 pods"}, fromTreesOnlyAlike: true,
	}, {
		name:   "labels only: no pod changes",
		before: deploymentAttrs("web", 2, "web:1"), after: deploymentAttrs("web", 2, "web:1", func(t map[string]any) { t["metadata"].(map[string]any)["labels"] = map[string]any{"x": "y"} }),
		live: deploymentObject("web", 2, 3), desired: deploymentObject("web", 2, 0),
		want: nil, fromTreesOnlyAlike: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{Autoscaled: map[string]bool{"deployment.web": tt.autoscaled}, ForceNew: map[string][]string{"Deployment": tt.forceNew}, Prune: true}
			var desired, actual []Resource
			if tt.after != nil {
				desired = []Resource{res("deployment.web", "Deployment", tt.after, tt.desired)}
			}
			if tt.before != nil {
				actual = []Resource{res("deployment.web", "Deployment", tt.before, tt.live)}
			}
			p := Compute(desired, actual, opt)
			if got := p.Changes[0].Impact; !slices.Equal(got, tt.want) {
				t.Errorf("impact %q, want %q", got, tt.want)
			}
			if !tt.fromTreesOnlyAlike {
				return
			}
			for i := range desired {
				desired[i].Object = nil
			}
			for i := range actual {
				actual[i].Object = nil
			}
			if got := Compute(desired, actual, opt).Changes[0].Impact; !slices.Equal(got, tt.want) {
				t.Errorf("from the trees alone: impact %q, want %q", got, tt.want)
			}
		})
	}
}

// withCommand gives the pod tree's first container a command.
func withCommand(tree map[string]any) map[string]any {
	tree["spec"].(map[string]any)["container"].([]any)[0].(map[string]any)["command"] = []any{"sleep", "1"}
	return tree
}

func TestPodAndNamespaceImpact(t *testing.T) {
	pod := func(image string, labels map[string]any) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": "p", "labels": labels},
			"spec": map[string]any{"container": []any{map[string]any{"name": "c", "image": image}}}}
	}
	tests := []struct {
		name          string
		kind          string
		before, after map[string]any
		want          []string
	}{
		{"pod image change restarts its container in place", "Pod", pod("a:1", nil), pod("a:2", nil), []string{"restart 1 container with the new image (c)"}},
		{"pod spec change replaces it", "Pod", pod("a:1", nil), withCommand(pod("a:1", nil)), []string{"replace pod (restart)"}},
		{"pod label change does not", "Pod", pod("a:1", nil), pod("a:1", map[string]any{"x": "y"}), nil},
		{"pod create", "Pod", nil, pod("a:1", nil), []string{"starts 1 pod"}},
		{"pod delete", "Pod", pod("a:1", nil), nil, []string{"stops 1 pod"}},
		{"namespace delete", "Namespace", map[string]any{"name": "p"}, nil, []string{"deletes every object in namespace p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var desired, actual []Resource
			if tt.after != nil {
				desired = []Resource{{Address: "x.p", Kind: tt.kind, Name: "p", Attrs: tt.after}}
			}
			if tt.before != nil {
				actual = []Resource{{Address: "x.p", Kind: tt.kind, Name: "p", Attrs: tt.before}}
			}
			p := Compute(desired, actual, Options{Prune: true})
			if got := p.Changes[0].Impact; !slices.Equal(got, tt.want) {
				t.Errorf("impact %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodePoolImpact(t *testing.T) {
	pool := func(size int, machineType string, extra ...func(map[string]any)) map[string]any {
		t := map[string]any{"name": "workers", "size": size, "machine_type": machineType, "local": map[string]any{}}
		for _, f := range extra {
			f(t)
		}
		return t
	}
	object := func(size int32, machineType string, surge int32) *api.NodePool {
		p := &api.NodePool{}
		p.Name = "workers"
		p.Spec = api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: size, MaxSize: size, Size: api.Ptr(size), MachineType: machineType}
		if surge > 0 {
			p.Spec.Rollout.MaxSurge = api.Ptr(api.FromInt(surge))
		}
		return p
	}
	surge2 := func(t map[string]any) { t["rollout"] = map[string]any{"max_surge": "2"} }
	tests := []struct {
		name          string
		before, after map[string]any
		live, desired *api.NodePool
		want          []string
	}{
		{"create", nil, pool(2, "small"), nil, object(2, "small", 0), []string{"create 2 machines"}},
		{"delete", pool(3, "small"), nil, object(3, "small", 0), nil, []string{"drain and delete 3 machines"}},
		{"grow", pool(3, "small"), pool(5, "small"), object(3, "small", 0), object(5, "small", 0), []string{"create 2 machines"}},
		{"shrink", pool(3, "small"), pool(1, "small"), object(3, "small", 0), object(1, "small", 0), []string{"drain and delete 2 machines"}},
		{"template", pool(3, "small"), pool(3, "large"), object(3, "small", 0), object(3, "large", 0),
			[]string{"replace 3 machines (drain first), one at a time (template changed: machine_type)"}},
		{"template with surge 2", pool(3, "small"), pool(3, "large", surge2), object(3, "small", 0), object(3, "large", 2),
			[]string{"replace 3 machines (drain first), up to 2 at a time (template changed: machine_type)"}},
		{"rollout settings only", pool(3, "small"), pool(3, "small", surge2), object(3, "small", 0), object(3, "small", 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, fromTrees := range []bool{false, true} {
				var desired, actual []Resource
				if tt.after != nil {
					desired = []Resource{{Address: "node_pool.workers", Kind: "NodePool", Name: "workers", Attrs: tt.after, Object: tt.desired}}
				}
				if tt.before != nil {
					actual = []Resource{{Address: "node_pool.workers", Kind: "NodePool", Name: "workers", Attrs: tt.before, Object: tt.live}}
				}
				if fromTrees {
					for i := range desired {
						desired[i].Object = nil
					}
					for i := range actual {
						actual[i].Object = nil
					}
				}
				p := Compute(desired, actual, Options{Prune: true})
				if got := p.Changes[0].Impact; !slices.Equal(got, tt.want) {
					t.Errorf("from trees only %v: impact %q, want %q", fromTrees, got, tt.want)
				}
			}
		})
	}
}

func TestPlacementImpact(t *testing.T) {
	desired := []Resource{
		res("deployment.web", "Deployment", deploymentAttrs("web", 4, "web:1"), deploymentObject("web", 4, 0)),
		res("deployment.api", "Deployment", deploymentAttrs("api", 3, "api:1"), deploymentObject("api", 3, 0)),
		res("deployment.same", "Deployment", deploymentAttrs("same", 1, "same:1"), deploymentObject("same", 1, 0)),
	}
	actual := []Resource{res("deployment.same", "Deployment", deploymentAttrs("same", 1, "same:1"), deploymentObject("same", 1, 2))}
	previews := map[string]api.PlacementPreview{
		"deployment.web": {Pods: 4, Placed: 3, Nodes: map[string]int{"node-b": 1, "node-a": 2},
			Reason: "0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules."},
		"deployment.api":  {Pods: 3, Placed: 3, Nodes: map[string]int{"node-c": 3}},
		"deployment.same": {Pods: 1, Placed: 0, Reason: "unchanged objects are not previewed"},
	}
	p := Compute(desired, actual, Options{Previews: previews})
	want := []string{
		"pods of deployment.api would go to node-c (3)",
		"1 of 4 pods of deployment.web would not fit: 0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules",
		"pods of deployment.web would go to node-a (2), node-b (1)",
	}
	if !slices.Equal(p.Impact, want) {
		t.Errorf("impact\n%q\nwant\n%q", p.Impact, want)
	}
}

// A Terraform plan keeps the configured replicas of an autoscaled
// deployment in its trees (Compute would have kept the live count): the
// impact says the autoscaler owns them rather than announcing a scale.
func TestChangeImpactAutoscaledReplicas(t *testing.T) {
	for _, tt := range []struct {
		name       string
		autoscaled bool
		want       []string
	}{
		{"autoscaled", true, []string{"replicas (5) left to the autoscaler: the live count is not changed"}},
		{"not autoscaled", false, []string{"scale from 2 to 5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Change{Kind: "Deployment", Action: Update,
				Before: deploymentAttrs("web", 2, "web:1"), After: deploymentAttrs("web", 5, "web:1")}
			if got := ChangeImpact(c, tt.autoscaled); !slices.Equal(got, tt.want) {
				t.Errorf("impact %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLookupIndexed(t *testing.T) {
	tree := map[string]any{"spec": map[string]any{"container": []any{
		map[string]any{"name": "a"}, map[string]any{"name": "b", "port": []any{map[string]any{"n": 80}}},
	}}}
	for path, want := range map[string]any{
		"spec.container[1].name":      "b",
		"spec.container[1].port[0].n": 80,
		"spec.container[2].name":      nil,
		"spec.nothing":                nil,
	} {
		if got := LookupIndexed(tree, path); got != want {
			t.Errorf("LookupIndexed(%s) = %v, want %v", path, got, want)
		}
	}
}
