package apiserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestNodeRestriction: a node writes its own Node's status and heartbeat,
// but it cannot promote itself: no restricted labels, no change to the
// labels it was admitted with, no removing the taints controllers and
// admins put on it, no uncordoning, whichever way it writes.
func TestNodeRestriction(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	admin := env.Client
	j := mustJoin(t, env, api.TokenRequest{Labels: map[string]string{api.LabelZone: "zone-a", api.LabelNodePool: "cheap"}}, "nr-1")
	nodes := j.client.Nodes()

	forbidden := func(t *testing.T, what string, err error, field string) {
		t.Helper()
		if !api.IsForbidden(err) || api.CodeOf(err) != http.StatusForbidden {
			t.Fatalf("%s: %v, want 403", what, err)
		}
		if !strings.Contains(err.Error(), field) {
			t.Fatalf("%s: %q does not name %s", what, err, field)
		}
	}
	newNode := func(labels map[string]string, taints ...api.Taint) *api.Node {
		return &api.Node{ObjectMeta: api.ObjectMeta{Name: "nr-1", Labels: labels}, Spec: api.NodeSpec{Taints: taints}}
	}

	// Registration: restricted labels, other admission values and controller taints are refused.
	_, err := nodes.Create(ctx, newNode(map[string]string{"node-restriction.maestro.dev/trusted": "true"}))
	forbidden(t, "create with a restricted label", err, `metadata.labels["node-restriction.maestro.dev/trusted"]`)
	_, err = nodes.Create(ctx, newNode(map[string]string{api.LabelZone: "zone-secure"}))
	forbidden(t, "create with another zone than admitted", err, `metadata.labels["`+api.LabelZone+`"]`)
	_, err = nodes.Create(ctx, newNode(nil, api.Taint{Key: "x", Effect: api.TaintNoSchedule}, api.Taint{Key: api.TaintNodeUnreachable, Effect: api.TaintNoExecute}))
	forbidden(t, "create with a controller taint", err, api.TaintNodeUnreachable)
	if _, err := nodes.Create(ctx, newNode(map[string]string{"custom": "1"}, api.Taint{Key: "x", Effect: api.TaintNoSchedule})); err != nil {
		t.Fatalf("registering: %v", err)
	}
	n, err := admin.Nodes().Get(ctx, "nr-1")
	if err != nil {
		t.Fatal(err)
	}
	if n.Labels[api.LabelZone] != "zone-a" || n.Labels[api.LabelNodePool] != "cheap" || n.Labels["custom"] != "1" {
		t.Fatalf("registered labels %v: want the admission labels applied and the node's own kept", n.Labels)
	}

	// The controllers mark it not ready and an admin cordons it.
	n.Spec.Unschedulable = true
	n.Spec.Taints = append(n.Spec.Taints,
		api.Taint{Key: api.TaintNodeNotReady, Effect: api.TaintNoExecute},
		api.Taint{Key: api.TaintNodeUnreachable, Effect: api.TaintNoExecute},
		api.Taint{Key: api.TaintNodeUnschedulable, Effect: api.TaintNoSchedule})
	if n, err = admin.Nodes().Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	want := n

	cases := []struct {
		name  string
		edit  func(n *api.Node)
		field string
	}{
		{"remove the not-ready taint", func(n *api.Node) {
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t api.Taint) bool { return t.Key == api.TaintNodeNotReady })
		}, "spec.taints"},
		{"remove every taint", func(n *api.Node) { n.Spec.Taints = nil }, "spec.taints"},
		{"soften the unreachable taint", func(n *api.Node) {
			for i := range n.Spec.Taints {
				if n.Spec.Taints[i].Key == api.TaintNodeUnreachable {
					n.Spec.Taints[i].Effect = api.TaintPreferNoSchedule
				}
			}
		}, api.TaintNodeUnreachable},
		{"uncordon", func(n *api.Node) { n.Spec.Unschedulable = false }, "spec.unschedulable"},
		{"change its admitted zone", func(n *api.Node) { n.Labels[api.LabelZone] = "zone-secure" }, `metadata.labels["` + api.LabelZone + `"]`},
		{"drop its admitted pool", func(n *api.Node) { delete(n.Labels, api.LabelNodePool) }, `metadata.labels["` + api.LabelNodePool + `"]`},
		{"set its instance type", func(n *api.Node) { n.Labels[api.LabelInstanceType] = "huge" }, `metadata.labels["` + api.LabelInstanceType + `"]`},
		{"add a restricted label", func(n *api.Node) { n.Labels["node-restriction.maestro.dev/trusted"] = "true" },
			`metadata.labels["node-restriction.maestro.dev/trusted"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur, err := nodes.Get(ctx, "nr-1")
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(cur)
			_, err = nodes.Update(ctx, cur)
			forbidden(t, tc.name, err, tc.field)
			// Through the status subresource the change is not taken either.
			cur, _ = nodes.Get(ctx, "nr-1")
			tc.edit(cur)
			if _, err := nodes.UpdateStatus(ctx, cur); err != nil && !api.IsForbidden(err) {
				t.Fatalf("status update: %v", err)
			}
			got, err := admin.Nodes().Get(ctx, "nr-1")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Spec.Taints, want.Spec.Taints) || got.Spec.Unschedulable != want.Spec.Unschedulable ||
				got.Labels[api.LabelZone] != "zone-a" || got.Labels[api.LabelNodePool] != "cheap" ||
				got.Labels[api.LabelInstanceType] != "" || got.Labels["node-restriction.maestro.dev/trusted"] != "" {
				t.Fatalf("stored node changed: labels %v taints %v unschedulable %v", got.Labels, got.Spec.Taints, got.Spec.Unschedulable)
			}
		})
	}

	// What a node may do: heartbeat, its own ordinary labels and taints.
	cur, err := nodes.Get(ctx, "nr-1")
	if err != nil {
		t.Fatal(err)
	}
	cur.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: time.Now().UTC()}}
	if cur, err = nodes.UpdateStatus(ctx, cur); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	cur.Labels["custom"] = "2"
	cur.Spec.Taints = slices.DeleteFunc(cur.Spec.Taints, func(t api.Taint) bool { return t.Key == "x" })
	if _, err := nodes.Update(ctx, cur); err != nil {
		t.Fatalf("changing its own label and taint: %v", err)
	}
	err = nodes.Delete(ctx, "nr-1")
	forbidden(t, "delete its own Node", err, "nr-1")

	// An admin (or a controller) may do all of it.
	cur, err = admin.Nodes().Get(ctx, "nr-1")
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Taints, cur.Spec.Unschedulable = nil, false
	cur.Labels[api.LabelZone] = "zone-b"
	cur.Labels["node-restriction.maestro.dev/trusted"] = "true"
	if _, err := admin.Nodes().Update(ctx, cur); err != nil {
		t.Fatalf("admin update: %v", err)
	}
}

// TestJoinTokenTaints: a join token's taints (a pool's) are on the Node
// from its registration, whatever the agent sends, and the node cannot
// take them off; a taint on another kind of token, or an invalid one, is
// refused naming the field.
func TestJoinTokenTaints(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	gpu := api.Taint{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}
	j := mustJoin(t, env, api.TokenRequest{Taints: []api.Taint{gpu}}, "tt-1")
	n, err := j.client.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "tt-1"}})
	if err != nil {
		t.Fatalf("registering: %v", err)
	}
	if !slices.Contains(n.Spec.Taints, gpu) {
		t.Fatalf("registered taints %v: want the join token's %v", n.Spec.Taints, gpu)
	}
	n.Spec.Taints = nil
	if _, err := j.client.Nodes().Update(ctx, n); !api.IsForbidden(err) || !strings.Contains(err.Error(), "dedicated") {
		t.Fatalf("the node removing its admitted taint: %v, want 403 naming it", err)
	}
	for _, tc := range []struct {
		req   api.TokenRequest
		field string
	}{
		{api.TokenRequest{Role: "viewer", Taints: []api.Taint{gpu}}, "taints"},
		{api.TokenRequest{Role: "join", Taints: []api.Taint{{Key: "x", Effect: "Evict"}}}, "taints[0].effect"},
	} {
		if _, err := env.Client.CreateToken(ctx, tc.req); !api.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("token %+v: %v, want 422 naming %s", tc.req, err, tc.field)
		}
	}
}
