package nodepool_test

import (
	"fmt"
	"slices"
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
