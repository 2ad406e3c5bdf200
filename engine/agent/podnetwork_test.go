package agent

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// The agent says what it knows about the pod network, but a reason another
// writer set (the control plane's PodCIDRExhausted, the mesh's) is left
// alone unless the agent has a failure to report over a healthy state.
func TestNetworkCondition(t *testing.T) {
	cond := func(s api.ConditionStatus, reason string) *api.Condition {
		return &api.Condition{Type: api.NodeNetworkUnavailable, Status: s, Reason: reason}
	}
	tests := []struct {
		name       string
		agent      *api.Condition // what the agent has to say
		cur        *api.Condition // on the Node
		wantSet    bool
		wantTrue   bool
		wantReason string
	}{
		{"nothing to say", nil, nil, false, false, ""},
		{"no CIDR yet, no condition", cond(api.ConditionTrue, ReasonNoPodCIDR), nil, true, true, ReasonNoPodCIDR},
		{"no CIDR: the control plane's exhaustion stays", cond(api.ConditionTrue, ReasonNoPodCIDR),
			cond(api.ConditionTrue, "PodCIDRExhausted"), false, false, ""},
		{"ready over our own waiting", cond(api.ConditionFalse, ReasonPodNetworkReady),
			cond(api.ConditionTrue, ReasonNoPodCIDR), true, false, ReasonPodNetworkReady},
		{"ready: another writer's False stays", cond(api.ConditionFalse, ReasonPodNetworkReady),
			cond(api.ConditionFalse, "PodCIDRAssigned"), false, false, ""},
		{"ready: another writer's failure stays", cond(api.ConditionFalse, ReasonPodNetworkReady),
			cond(api.ConditionTrue, "WireGuardFailed"), false, false, ""},
		{"setup failed over the control plane's False", cond(api.ConditionTrue, ReasonPodNetworkFailed),
			cond(api.ConditionFalse, "PodCIDRAssigned"), true, true, ReasonPodNetworkFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{}
			a.net.cond = tc.agent
			var cur []api.Condition
			if tc.cur != nil {
				cur = append(cur, *tc.cur)
			}
			got := a.networkCondition(cur)
			if (got != nil) != tc.wantSet {
				t.Fatalf("networkCondition = %+v, want set=%v", got, tc.wantSet)
			}
			if got != nil && ((got.Status == api.ConditionTrue) != tc.wantTrue || got.Reason != tc.wantReason) {
				t.Errorf("networkCondition = %s/%s, want true=%v %s", got.Status, got.Reason, tc.wantTrue, tc.wantReason)
			}
		})
	}
}

// nsRuntime is a runtime that says whether it gives pods network
// namespaces of their own; syncPodNetwork calls nothing else.
type nsRuntime struct {
	runtime.Runtime
	own bool
}

func (r nsRuntime) OwnNetworkNamespaces() bool { return r.own }

// A runtime whose pods share the host's network (the process runtime
// without root) needs no bridge and no pod CIDR: the pod network is ready
// at once, so the scheduler sends the node ordinary pods. One that gives
// pods namespaces waits for the node's pod CIDR.
func TestSyncPodNetworkHostNetworkRuntime(t *testing.T) {
	for _, tc := range []struct {
		own        bool
		wantReady  bool
		wantReason string
	}{
		{own: false, wantReady: true, wantReason: ReasonPodNetworkReady},
		{own: true, wantReady: false, wantReason: ReasonNoPodCIDR},
	} {
		rt := nsRuntime{own: tc.own}
		a := &Agent{cfg: Config{Runtime: rt}, log: slog.New(slog.DiscardHandler)}
		a.net.rt = network.WrapRuntime(rt, nil)
		got := a.syncPodNetwork(context.Background(), &api.Node{}) // no spec.podCIDR
		if got != tc.wantReady {
			t.Errorf("own namespaces %v: syncPodNetwork = %v, want %v", tc.own, got, tc.wantReady)
		}
		cond := a.agentNetworkCondition()
		if cond == nil || cond.Reason != tc.wantReason || (cond.Status == api.ConditionFalse) != tc.wantReady {
			t.Errorf("own namespaces %v: condition %+v, want %s ready=%v", tc.own, cond, tc.wantReason, tc.wantReady)
		}
	}
}

// A Node that loses its pod CIDR (deleted and registered again) leaves
// the agent without a node network until the new one comes, so no
// sandbox takes an address of the CIDR the node may not get back.
func TestSyncPodNetworkCIDRLost(t *testing.T) {
	rt := nsRuntime{own: true}
	a := &Agent{cfg: Config{Runtime: rt}, log: slog.New(slog.DiscardHandler)}
	a.net.rt = network.WrapRuntime(rt, &network.Node{})
	a.net.cidr = netip.MustParsePrefix("10.244.1.0/24")
	if a.syncPodNetwork(context.Background(), &api.Node{}) {
		t.Error("syncPodNetwork without a pod CIDR reports the network up")
	}
	if a.net.rt.Node() != nil {
		t.Error("the node network of the lost CIDR is still in use")
	}
}
