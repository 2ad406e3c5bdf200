package nodepool_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestNoCapacityTriesNextZone: a machine whose zone has no capacity is
// made in the pool's next zone, and its node is admitted with that zone.
func TestNoCapacityTriesNextZone(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.fake.NoCapacityIn("z1", true)
	e.createPool(t, pool("np", 2, func(p *api.NodePool) { p.Spec.Zones = []string{"z1", "z2"} }))
	ms := e.waitPoolReady(t, "np", 2, 30*time.Second)
	for _, m := range ms {
		if m.Status.Zone != "z2" {
			t.Errorf("machine %s (spec zone %s) placed in %q, want z2", m.Name, m.Spec.Zone, m.Status.Zone)
		}
		if n, ok := e.node(t, m.Name); !ok || n.Labels[api.LabelZone] != "z2" {
			t.Errorf("node of machine %s: labels %v, want zone z2", m.Name, n.Labels)
		}
	}
	for _, r := range e.fake.Requests() {
		if r.Zone != "z2" {
			t.Errorf("machine %s made in zone %s", r.Name, r.Zone)
		}
	}
}

// TestCloudRefusalsOnPool: a cloud's refusal that needs a person (quota,
// permission, an invalid request) is the pool's Ready reason, with the
// cloud's own message and the machine named; no capacity in any zone is
// InsufficientCapacity on the machine and no failure of the pool.
func TestCloudRefusalsOnPool(t *testing.T) {
	t.Parallel()
	e := start(t)
	for i, tc := range []struct {
		err                error
		machine, poolState string
	}{
		{cloud.Errorf(cloud.ErrQuota, "aws", "create", "InstanceLimitExceeded: You have requested more instances (21) than your current instance limit of 20 allows"),
			api.ReasonQuotaExceeded, api.ReasonQuotaExceeded},
		{cloud.Errorf(cloud.ErrPermission, "gcp", "create", "could not find default credentials"),
			api.ReasonPermissionDenied, api.ReasonPermissionDenied},
		{cloud.Errorf(cloud.ErrInvalid, "aws", "create", "InvalidParameterValue: Invalid value 'x9.huge' for InstanceType."),
			api.ReasonInvalidRequest, api.ReasonInvalidRequest},
		{cloud.Errorf(cloud.ErrCapacity, "aws", "create", "InsufficientInstanceCapacity: We currently do not have sufficient capacity"),
			api.ReasonInsufficientCapacity, api.ReasonScalingUp},
	} {
		name := fmt.Sprintf("np%d", i)
		e.fake.FailCreates(tc.err)
		e.createPool(t, pool(name, 1))
		msg := tc.err.(*cloud.Error).Message
		cluster.Eventually(t, 20*time.Second, name+": "+tc.machine, func() (bool, string) {
			ms := e.machines(t, name)
			p, _ := e.Client.NodePools().Get(e.Ctx, name)
			if len(ms) != 1 || p == nil {
				return false, summary(ms)
			}
			mc := api.FindCondition(ms[0].Status.Conditions, api.MachineProvisioned)
			pc := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
			ok := mc != nil && mc.Reason == tc.machine && strings.Contains(mc.Message, msg) && pc != nil && pc.Reason == tc.poolState
			if ok && tc.poolState != api.ReasonScalingUp {
				ok = strings.Contains(pc.Message, msg) && strings.Contains(pc.Message, ms[0].Name)
			}
			return ok, fmt.Sprintf("machine %+v; pool %+v", mc, pc)
		})
	}
	e.fake.FailCreates(nil)
}

// TestCloudTakesMachines: a spot machine its cloud announces it reclaims
// is drained (its pods moved while it runs) and replaced at once, and a
// machine terminated outside maestro is replaced at once (without waiting
// for its node's NotReady timeout).
func TestCloudTakesMachines(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 2, func(p *api.NodePool) {
		p.Spec.Spot = true
		p.Spec.Remediation.NotReadyTimeoutSeconds = api.Ptr[int64](3600)
	}))
	ms := e.waitPoolReady(t, "np", 2, 30*time.Second)
	for _, tc := range []struct {
		reason string
		change func(m *cloud.Machine)
	}{
		{api.ReasonSpotInterrupted, func(m *cloud.Machine) { m.Interrupted = true }},
		{api.ReasonMachineTerminated, func(m *cloud.Machine) { m.State = cloud.StateTerminated }},
	} {
		victim := ms[0]
		if !e.fake.SetMachine(victim.Status.ProviderID, tc.change) {
			t.Fatalf("no cloud machine %s", victim.Status.ProviderID)
		}
		cluster.Eventually(t, 30*time.Second, tc.reason+": machine "+victim.Name+" replaced", func() (bool, string) {
			now := e.machines(t, "np")
			gone := !slices.ContainsFunc(now, func(m *api.Machine) bool { return m.Name == victim.Name })
			ready := 0
			for _, m := range now {
				if m.Status.Phase == api.MachineRunning && m.DeletionTimestamp == nil {
					ready++
				}
			}
			return gone && ready == 2, summary(now)
		})
		evs := strings.Join(e.events(t, "Machine", victim.Name), "\n")
		if !strings.Contains(evs, tc.reason) {
			t.Errorf("events of machine %s lack %s:\n%s", victim.Name, tc.reason, evs)
		}
		if tc.reason == api.ReasonSpotInterrupted && !strings.Contains(evs, api.ReasonDrainStarted) {
			t.Errorf("interrupted machine %s was not drained:\n%s", victim.Name, evs)
		}
		ms = e.machines(t, "np")
	}
	nodes, _, err := e.Client.Nodes().List(e.Ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 {
		t.Errorf("%d nodes after the replacements, want 2", len(nodes))
	}
}
