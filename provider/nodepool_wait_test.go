package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// The apply waits for the real node pool and machine controllers (on a
// fake cloud whose machines join as simulated nodes): a pool is created
// with Ready nodes, grows and rolls to a new template with every machine
// on it, fails at once naming the host and the SSH error when the cloud
// refuses its machines, and destroy leaves no machine behind.
func TestAccNodePool_waitsForTheControllers(t *testing.T) {
	fake := cloudtest.NewFake()
	c, provider := accCluster(t, 0, cluster.FakeCloud(fake))
	c.JoinMachines(t, fake, nil)
	ctx := context.Background()
	pool := func(size int, tier string) string {
		return provider + fmt.Sprintf(`
resource "maestro_node_pool" "good" {
  name          = "good"
  size          = %d
  labels        = { tier = %q }
  drain_timeout = "20s"
  local {}
  timeouts {
    create = "2m"
    update = "2m"
  }
}`, size, tier)
	}
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			ms, _, err := c.Client.Machines().List(ctx, client.ListOptions{})
			if err != nil || len(ms) > 0 {
				return fmt.Errorf("%d machines left after destroy (%v)", len(ms), err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: pool(2, "a"), Check: readyOnTemplate(c.Client, "good", 2, "a")},
			{Config: pool(3, "b"), Check: readyOnTemplate(c.Client, "good", 3, "b")},
			{
				PreConfig: func() {
					fake.FailCreates(cloud.Errorf(cloud.ErrInvalid, "ssh", "create",
						"ssh root@10.0.0.5:22: authentication failed: ssh: unable to authenticate, attempted methods [none publickey]"))
					started = time.Now()
				},
				Config: pool(3, "b") + `
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
				ExpectError: regexp.MustCompile(`(?s)Node pool "bad" failed.*host 10\.0\.0\.5.*ssh root@10\.0\.0\.5:22:\s+authentication\s+failed`),
			},
			{
				PreConfig: func() {
					if took := time.Since(started); took > time.Minute {
						t.Errorf("the failed apply took %s; want it to fail at once", took)
					}
					fake.FailCreates(nil)
				},
				Config: pool(3, "b"), // the failed pool goes; the good one stays
			},
		},
	})
}

// readyOnTemplate checks that pool has size Ready nodes labelled tier, all
// its machines Running on the pool's current template.
func readyOnTemplate(c *client.Client, pool string, size int, tier string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		p, err := c.NodePools().Get(ctx, pool)
		if err != nil {
			return err
		}
		ms, _, err := c.Machines().List(ctx, client.ListOptions{})
		if err != nil {
			return err
		}
		running := 0
		for _, m := range ms {
			if m.Spec.Pool == pool && m.DeletionTimestamp == nil && m.Status.Phase == api.MachineRunning &&
				m.Labels[api.LabelTemplateHash] == p.Status.TemplateHash {
				running++
			}
		}
		nodes, _, err := c.Nodes().List(ctx, client.ListOptions{LabelSelector: api.LabelNodePool + "=" + pool + ",tier=" + tier})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes {
			if c := api.FindCondition(n.Status.Conditions, "Ready"); c != nil && c.Status == api.ConditionTrue {
				ready++
			}
		}
		if running != size || ready != size {
			return fmt.Errorf("pool %s: %d machines Running on template %s, %d Ready nodes with tier=%s; want %d", pool, running, p.Status.TemplateHash, ready, tier, size)
		}
		return nil
	}
}
