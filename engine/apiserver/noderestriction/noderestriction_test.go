package noderestriction

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

type fixedLabels map[string]map[string]string

func (f fixedLabels) Labels(_ context.Context, node string) (map[string]string, error) {
	if node == "broken" {
		return nil, errors.New("store unavailable")
	}
	return f[node], nil
}

// admittedTaints are n1's join token's taints (its pool's).
var admittedTaints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}}

func (f fixedLabels) Taints(_ context.Context, node string) ([]api.Taint, error) {
	if node == "broken" {
		return nil, errors.New("store unavailable")
	}
	if node == "n1" {
		return admittedTaints, nil
	}
	return nil, nil
}

var nodeKind = api.MustKind("Node")

func node(labels map[string]string, unschedulable bool, taints ...api.Taint) *api.Node {
	return &api.Node{ObjectMeta: api.ObjectMeta{Name: "n1", Labels: labels}, Spec: api.NodeSpec{Unschedulable: unschedulable, Taints: taints}}
}

func taint(key string, effect api.TaintEffect) api.Taint { return api.Taint{Key: key, Effect: effect} }

var admitted = fixedLabels{"n1": {api.LabelZone: "zone-a", api.LabelNodeRestrictionPrefix + "tier": "gold"}}

func TestAdmitCreate(t *testing.T) {
	a := New(admitted)
	cases := []struct {
		name  string
		node  *api.Node
		field string // "" when allowed
	}{
		{"plain", node(nil, false), ""},
		{"own labels and taints", node(map[string]string{"custom": "1", api.LabelNodePool: "p"}, false, taint("gpu", api.TaintNoSchedule)), ""},
		{"admitted values repeated", node(map[string]string{api.LabelZone: "zone-a", api.LabelNodeRestrictionPrefix + "tier": "gold"}, false), ""},
		{"admitted taint repeated", node(nil, false, admittedTaints[0]), ""},
		{"another zone", node(map[string]string{api.LabelZone: "zone-b"}, false), `metadata.labels["topology.maestro.dev/zone"]`},
		{"restricted label", node(map[string]string{api.LabelNodeRestrictionPrefix + "x": "1"}, false), `metadata.labels["node-restriction.maestro.dev/x"]`},
		{"another restricted value", node(map[string]string{api.LabelNodeRestrictionPrefix + "tier": "platinum"}, false), "tier"},
		{"controller taint", node(nil, false, taint("gpu", api.TaintNoSchedule), taint(api.TaintNodeNotReady, api.TaintNoExecute)), "spec.taints[1]"},
		{"cordoned", node(nil, true), "spec.unschedulable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Admit(t.Context(), registry.Attributes{Op: registry.OpCreate, Kind: nodeKind, Object: tc.node, Requester: registry.Requester{Node: "n1"}})
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.node.Labels[api.LabelZone] != "zone-a" || tc.node.Labels[api.LabelNodeRestrictionPrefix+"tier"] != "gold" {
					t.Fatalf("admission labels not applied: %v", tc.node.Labels)
				}
				if n := len(slices.DeleteFunc(slices.Clone(tc.node.Spec.Taints), func(x api.Taint) bool { return !taintEqual(x, admittedTaints[0]) })); n != 1 {
					t.Fatalf("admission taints: %v, want %v once", tc.node.Spec.Taints, admittedTaints[0])
				}
				return
			}
			if !api.IsForbidden(err) || !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), `node "n1"`) {
				t.Fatalf("got %v, want 403 naming %s", err, tc.field)
			}
		})
	}
}

func TestAdmitUpdate(t *testing.T) {
	a := New(admitted)
	base := func() *api.Node {
		return node(map[string]string{api.LabelZone: "zone-a", api.LabelNodeRestrictionPrefix + "tier": "gold", api.LabelNodePool: "p", "custom": "1"},
			true, taint("gpu", api.TaintNoSchedule), taint(api.TaintNodeUnreachable, api.TaintNoExecute), admittedTaints[0])
	}
	cases := []struct {
		name  string
		edit  func(n *api.Node)
		field string
	}{
		{"nothing", func(*api.Node) {}, ""},
		{"status", func(n *api.Node) { n.Status.DaemonEndpoint = "https://10.0.0.1:10250" }, ""},
		// The mesh: a node publishes its WireGuard key and endpoint and
		// reports its pod network (another node's status is the
		// authorizer's: a node writes only its own Node).
		{"status.network and NetworkUnavailable", func(n *api.Node) {
			n.Status.Network = &api.NodeNetworkStatus{PublicKey: "a2V5", Endpoint: "10.0.0.1:51820"}
			n.Status.Conditions = append(n.Status.Conditions, api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionFalse})
		}, ""},
		{"own label", func(n *api.Node) { n.Labels["custom"] = "2"; n.Labels["more"] = "x" }, ""},
		{"own taint removed", func(n *api.Node) { n.Spec.Taints = n.Spec.Taints[1:] }, ""},
		{"own taint added", func(n *api.Node) { n.Spec.Taints = append(n.Spec.Taints, taint("ssd", api.TaintPreferNoSchedule)) }, ""},
		{"controller taint reordered after own", func(n *api.Node) { n.Spec.Taints[0], n.Spec.Taints[1] = n.Spec.Taints[1], n.Spec.Taints[0] }, ""},
		{"controller taint removed", func(n *api.Node) { n.Spec.Taints = n.Spec.Taints[:1] }, api.TaintNodeUnreachable},
		{"controller taint added", func(n *api.Node) {
			n.Spec.Taints = append(n.Spec.Taints, taint(api.TaintNodeNotReady, api.TaintNoExecute))
		}, api.TaintNodeNotReady},
		{"controller taint changed", func(n *api.Node) { n.Spec.Taints[1].Value = "x" }, api.TaintNodeUnreachable},
		{"admitted taint removed", func(n *api.Node) { n.Spec.Taints = n.Spec.Taints[:2] }, "the taint dedicated was set when the node was admitted"},
		{"uncordon", func(n *api.Node) { n.Spec.Unschedulable = false }, "spec.unschedulable"},
		{"admitted label changed", func(n *api.Node) { n.Labels[api.LabelZone] = "zone-b" }, "topology.maestro.dev/zone"},
		{"admitted label removed", func(n *api.Node) { delete(n.Labels, api.LabelNodeRestrictionPrefix+"tier") }, "tier"},
		{"restricted label added", func(n *api.Node) { n.Labels[api.LabelNodeRestrictionPrefix+"x"] = "1" }, "node-restriction.maestro.dev/x"},
		{"placement label changed", func(n *api.Node) { n.Labels[api.LabelNodePool] = "q" }, api.LabelNodePool},
		{"placement label added", func(n *api.Node) { n.Labels[api.LabelInstanceType] = "big" }, api.LabelInstanceType},
		{"labels dropped", func(n *api.Node) { n.Labels = nil }, "metadata.labels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := base()
			tc.edit(next)
			attrs := registry.Attributes{Op: registry.OpUpdate, Kind: nodeKind, Old: base(), Object: next, Requester: registry.Requester{Node: "n1"}}
			err := a.Admit(t.Context(), attrs)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if !api.IsForbidden(err) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want 403 naming %s", err, tc.field)
			}
			// Admins and controllers are not restricted.
			attrs.Requester = registry.Requester{}
			if err := a.Admit(t.Context(), attrs); err != nil {
				t.Fatalf("admin: %v", err)
			}
		})
	}
}

func TestAdmitOther(t *testing.T) {
	a := New(admitted)
	n1 := registry.Requester{Node: "n1"}
	if err := a.Admit(t.Context(), registry.Attributes{Op: registry.OpDelete, Kind: nodeKind, Old: node(nil, false), Requester: n1}); !api.IsForbidden(err) {
		t.Errorf("node deleting its Node: %v", err)
	}
	if err := a.Admit(t.Context(), registry.Attributes{Op: registry.OpDelete, Kind: nodeKind, Old: node(nil, false)}); err != nil {
		t.Errorf("admin deleting a Node: %v", err)
	}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{api.LabelNodeRestrictionPrefix + "x": "1"}}}
	if err := a.Admit(t.Context(), registry.Attributes{Op: registry.OpCreate, Kind: api.MustKind("Pod"), Object: pod, Requester: n1}); err != nil {
		t.Errorf("other kinds are not its business: %v", err)
	}
	// A failing lookup is an error, not a decision.
	broken := registry.Attributes{Op: registry.OpCreate, Kind: nodeKind, Object: node(nil, false), Requester: registry.Requester{Node: "broken"}}
	if err := a.Admit(t.Context(), broken); err == nil || api.IsForbidden(err) {
		t.Errorf("lookup failure: %v, want the error", err)
	}
}
