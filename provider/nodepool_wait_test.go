package provider

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// standInController plays the node pool and machine controllers for the
// provider's wait, as the issue 12 contract has them report: for pool
// "good" it reports every machine Ready; for pool "bad" it makes one
// machine whose creation failed over SSH. It stops with ctx. (The real
// controllers' end-to-end test is TestClusterInOneApply.)
func standInController(ctx context.Context, t *testing.T, c *client.Client) {
	go func() {
		for ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
			for _, name := range []string{"good", "bad"} {
				p, err := c.NodePools().Get(ctx, name)
				if err != nil || p.Status.ObservedGeneration == p.Generation {
					continue
				}
				p.Status.ObservedGeneration = p.Generation
				if name == "good" {
					p.Status.Machines, p.Status.ReadyMachines = *p.Spec.Size, *p.Spec.Size
					p.Status.Conditions = []api.Condition{{Type: condPoolReady, Status: api.ConditionTrue, Reason: "Ready"}}
				} else {
					p.Status.Conditions = []api.Condition{{Type: condPoolReady, Status: api.ConditionFalse, Reason: "ScalingUp", Message: "1 machine provisioning"}}
					m := &api.Machine{ObjectMeta: api.ObjectMeta{Name: "bad-1"}, Spec: api.MachineSpec{Pool: "bad", Provider: api.ProviderSSH, Host: "10.0.0.5"}}
					if m, err = c.Machines().Create(ctx, m); err == nil {
						m.Status.Phase = api.MachineProvisioning
						m.Status.Conditions = []api.Condition{{Type: condMachineProvisioned, Status: api.ConditionFalse, Reason: reasonCloudError,
							Message: "ssh root@10.0.0.5:22: authentication failed: ssh: unable to authenticate, attempted methods [none publickey]"}}
						_, err = c.Machines().UpdateStatus(ctx, m)
					}
					if err != nil {
						t.Errorf("stand-in controller: %v", err)
					}
				}
				if _, err := c.NodePools().UpdateStatus(ctx, p); err != nil && ctx.Err() == nil {
					t.Errorf("stand-in controller: %v", err)
				}
			}
		}
	}()
}

// The apply waits until the pool reports its machines Ready, and when a
// machine cannot be made it fails at once (long before its timeout) with
// the machine, the host and the SSH error.
func TestAccNodePool_waitsForReadyAndFailsFast(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	standInController(ctx, t, c.Client)
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: provider + `
resource "maestro_node_pool" "good" {
  name = "good"
  size = 2
  local {}
  timeouts {
    create = "1m"
  }
}`},
			{
				PreConfig: func() { started = time.Now() },
				Config: provider + `
resource "maestro_node_pool" "bad" {
  name = "bad"
  size = 1
  ssh {
    hosts       = ["10.0.0.5"]
    private_key = "not-a-key"
    host_keys   = ["10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
  }
  timeouts {
    create = "10m"
  }
}`,
				ExpectError: regexp.MustCompile(`(?s)Node pool "bad" failed.*machine bad-1 \(host 10\.0\.0\.5\) could not be created: ssh root@10\.0\.0\.5:22:\s+authentication failed`),
			},
		},
	})
	if took := time.Since(started); took > time.Minute {
		t.Errorf("the failed apply took %s; want it to fail at once", took)
	}
}
