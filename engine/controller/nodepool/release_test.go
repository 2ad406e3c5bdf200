package nodepool_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestUnreachableMachineReplacedThenReleased: a machine whose node dies
// while its cloud cannot delete it (an ssh host cut off) is replaced
// without waiting for that delete; the delete is retried at a steady pace
// (no backoff growing with the outage), so the machine is released within
// seconds of its cloud answering again, however long the outage lasted.
func TestUnreachableMachineReplacedThenReleased(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 1, func(p *api.NodePool) {
		p.Spec.Remediation.NotReadyTimeoutSeconds = api.Ptr[int64](1)
	}))
	old := e.waitPoolReady(t, "np", 1, 30*time.Second)[0].Name
	e.fake.FailDeletes(cloud.Errorf(cloud.ErrTransient, "ssh", "delete", "ssh root@10.0.0.1:22: unreachable: i/o timeout"))
	e.Fleet.Node(old).Stop()

	cluster.Eventually(t, 30*time.Second, "a replacement Running while the old machine cannot be deleted", func() (bool, string) {
		ms := e.machines(t, "np")
		ok := slices.ContainsFunc(ms, func(m *api.Machine) bool {
			n, joined := e.node(t, m.Name)
			return m.Name != old && m.Status.Phase == api.MachineRunning && joined && api.IsNodeReady(n)
		})
		return ok, summary(ms)
	})
	// An outage long enough for a doubling backoff to wait as long again.
	const outage = 25 * time.Second
	time.Sleep(outage)
	if slices.Contains(e.fake.Deleted(), old) {
		t.Fatalf("machine %s deleted while its cloud refused", old)
	}
	if n := e.fake.FailedDeletes(); n < 2 {
		t.Errorf("%d delete attempts during a %s outage, want the delete retried", n, outage)
	}
	e.fake.FailDeletes(nil)
	back := time.Now()
	cluster.Eventually(t, 15*time.Second, "the old machine released soon after its cloud answers", func() (bool, string) {
		_, err := e.Client.Machines().Get(e.Ctx, old)
		return api.IsNotFound(err) && slices.Contains(e.fake.Deleted(), old), fmt.Sprintf("%v; %s", err, summary(e.machines(t, "np")))
	})
	t.Logf("released %s after the cloud answered again (%d failed attempts before)", time.Since(back).Round(100*time.Millisecond), e.fake.FailedDeletes())
	m, err := e.Client.Machines().Get(e.Ctx, old)
	if !api.IsNotFound(err) {
		t.Errorf("machine %s: %v %+v", old, err, m)
	}
}

// TestRefusedMachineDeleted: a pool whose cloud refuses it (Create and
// List both ErrInvalid, as an ssh pool with a wrong private key, or both
// ErrPermission, as a cloud pool without credentials) is deleted whole:
// its machine, never made, does not wait for a listing the cloud will
// never give. (Terraform replaces such a pool after its failed create; the
// fixed apply waited on it forever.)
func TestRefusedMachineDeleted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reason string
		create, list error
	}{
		{"wrong ssh key", api.ReasonInvalidRequest,
			cloud.Errorf(cloud.ErrInvalid, "ssh", "create", "ssh root@10.0.0.1:22: authentication failed: ssh: unable to authenticate"),
			&cloud.Error{Kind: cloud.ErrTransient, Provider: "ssh", Op: "list", Message: "1 of 1 hosts not listed",
				Err: cloud.Errorf(cloud.ErrInvalid, "ssh", "list", "ssh root@10.0.0.1:22: authentication failed")}},
		{"no cloud credentials", api.ReasonPermissionDenied,
			cloud.Errorf(cloud.ErrPermission, "aws", "create", "no usable AWS credentials"),
			cloud.Errorf(cloud.ErrPermission, "aws", "list", "no usable AWS credentials")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t)
			e.fake.FailCreates(tc.create)
			e.fake.FailLists(tc.list)
			e.createPool(t, pool("np", 1))
			cluster.Eventually(t, 20*time.Second, "the machine refused by the cloud", func() (bool, string) {
				ms := e.machines(t, "np")
				if len(ms) != 1 {
					return false, summary(ms)
				}
				c := api.FindCondition(ms[0].Status.Conditions, api.MachineProvisioned)
				return c != nil && c.Reason == tc.reason, fmt.Sprintf("%+v", c)
			})
			name := e.machines(t, "np")[0].Name
			if err := e.Client.NodePools().Delete(e.Ctx, "np"); err != nil {
				t.Fatal(err)
			}
			cluster.Eventually(t, 20*time.Second, "the pool and its refused machine gone", func() (bool, string) {
				_, err := e.Client.NodePools().Get(e.Ctx, "np")
				return api.IsNotFound(err) && len(e.machines(t, "np")) == 0, fmt.Sprintf("pool: %v; machines %s", err, summary(e.machines(t, "np")))
			})
			// Events are recorded asynchronously: the machine may be gone first.
			cluster.Eventually(t, 20*time.Second, "an event saying the machine was deleted without its cloud", func() (bool, string) {
				evs := fmt.Sprint(e.events(t, "Machine", name))
				return strings.Contains(evs, "deleting without the cloud"), evs
			})
		})
	}
}
