package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
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

// A cloud's refusal that only a person can fix (quota, permission, an
// invalid request) ends the wait at once with the cloud's own words and
// the machine or pool named; a zone out of capacity does not: the wait
// goes on, saying so.
func TestPoolProgressCloudRefusals(t *testing.T) {
	const (
		quotaMsg    = "You have requested more vCPU capacity than your current vCPU limit of 32 allows"
		deniedMsg   = "You are not authorized to perform this operation. User: arn:aws:iam::1:user/ci is not authorized to perform: ec2:RunInstances"
		invalidMsg  = "Invalid value 'x9.huge' for InstanceType."
		capacityMsg = "We currently do not have sufficient t3.medium capacity in the Availability Zone you requested (us-east-1a)."
	)
	pool := func(reason, msg string) *api.NodePool {
		p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "aws", Generation: 1},
			Spec:   *spec(2, func(s *api.NodePoolSpec) { s.Provider = api.ProviderAWS }),
			Status: api.NodePoolStatus{ObservedGeneration: 1, Machines: 2}}
		if reason != "" {
			p.Status.Conditions = []api.Condition{{Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: reason, Message: msg}}
		}
		return p
	}
	refused := func(reason, msg string) []*api.Machine {
		return []*api.Machine{{ObjectMeta: api.ObjectMeta{Name: "aws-x1"}, Spec: api.MachineSpec{Pool: "aws", Provider: api.ProviderAWS},
			Status: api.MachineStatus{Phase: api.MachineProvisioning, Conditions: []api.Condition{
				{Type: api.MachineProvisioned, Status: api.ConditionFalse, Reason: reason, Message: msg}}}}}
	}
	for _, tt := range []struct {
		name        string
		pool        *api.NodePool
		ms          []*api.Machine
		failure     string // "" = the wait goes on
		progressHas string
	}{
		{"pool over quota", pool(api.ReasonQuotaExceeded, "machine aws-x1: "+quotaMsg), nil,
			"the cloud refused the pool's machines (QuotaExceeded): machine aws-x1: " + quotaMsg, ""},
		{"pool without permission", pool(api.ReasonPermissionDenied, "machine aws-x1: "+deniedMsg), nil,
			"(PermissionDenied): machine aws-x1: " + deniedMsg, ""},
		{"pool with an invalid instance type", pool(api.ReasonInvalidRequest, "machine aws-x1: "+invalidMsg), nil,
			"(InvalidRequest): machine aws-x1: " + invalidMsg, ""},
		{"machine over quota", pool(api.ReasonScalingUp, "1 machine provisioning"), refused(api.ReasonQuotaExceeded, quotaMsg),
			"machine aws-x1 could not be created (QuotaExceeded): " + quotaMsg, ""},
		{"machine without permission", pool("", ""), refused(api.ReasonPermissionDenied, deniedMsg),
			"machine aws-x1 could not be created (PermissionDenied): " + deniedMsg, ""},
		{"machine with an invalid request", pool(api.ReasonScalingUp, ""), refused(api.ReasonInvalidRequest, invalidMsg),
			"machine aws-x1 could not be created (InvalidRequest): " + invalidMsg, ""},
		{"pool waits for capacity", pool(api.ReasonInsufficientCapacity, "machine aws-x1: "+capacityMsg), refused(api.ReasonInsufficientCapacity, capacityMsg),
			"", "0 of 2 machines ready (InsufficientCapacity: machine aws-x1: " + capacityMsg + ")"},
		{"machine waits for capacity", pool(api.ReasonScalingUp, "1 machine provisioning"), refused(api.ReasonInsufficientCapacity, capacityMsg),
			"", "machine aws-x1 waits for capacity (" + capacityMsg + ")"},
		{"refusals of the previous generation wait for the controller", func() *api.NodePool {
			p := pool(api.ReasonQuotaExceeded, quotaMsg)
			p.Generation = 2
			return p
		}(), refused(api.ReasonQuotaExceeded, quotaMsg), "", "has not yet seen this change"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := poolProgress(tt.pool, tt.ms)
			if st.done {
				t.Errorf("done, want not (%+v)", st)
			}
			if tt.failure == "" && st.failure != "" || !strings.Contains(st.failure, tt.failure) {
				t.Errorf("failure = %q, want %q", st.failure, tt.failure)
			}
			if !strings.Contains(st.progress, tt.progressHas) {
				t.Errorf("progress = %q, want it to contain %q", st.progress, tt.progressHas)
			}
		})
	}
}
