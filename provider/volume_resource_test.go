package provider

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// volumeConfig is a maestro_volume "data" with the given spec block ("" for
// none) and, with withApp, a deployment of one pod that mounts it.
func volumeConfig(provider, spec string, withApp bool) string {
	cfg := provider + `
variable "pin" {
  type    = string
  default = ""
}

resource "maestro_volume" "data" {
  metadata {
    name      = "tf-data"
    namespace = "default"
    labels    = { app = "db" }
  }
` + spec + `
  timeouts {
    delete = "1m"
  }
}
`
	if withApp {
		cfg += `
resource "maestro_deployment" "db" {
  metadata {
    name      = "db"
    namespace = "default"
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "db" }
    }
    template {
      labels = { app = "db" }
      container {
        name  = "db"
        image = "demo:v1"
      }
      volume {
        name = "data"
        persistent { name = maestro_volume.data.metadata.name }
      }
    }
  }
}
`
	}
	return cfg
}

// runReclaimers stands in for the agents of simulated nodes: they release
// the data finalizer of their deleted volumes (with no runtime, there is
// no data to remove).
func runReclaimers(t *testing.T, c *cluster.Cluster, nodes []string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(nodes))
	for _, n := range nodes {
		r := volumes.NewReclaimer(c.Client, n, nil, testenv.Logger(t))
		go func() { r.Run(ctx); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range nodes {
			<-done
		}
	})
}

func TestAccVolumeResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	nodes := c.AddNodes(t, "node-", 2)
	runReclaimers(t, c, nodes)
	ctx := context.Background()
	vols := c.Client.Volumes("default")
	const addr = "maestro_volume.data"
	var home, away string // the node the first pod put the volume on, and the other

	other := func() string {
		if home == nodes[0] {
			return nodes[1]
		}
		return nodes[0]
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := vols.Get(ctx, "tf-data"); !api.IsNotFound(err) {
				return errorf("volume still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      volumeConfig(provider, `spec { reclaim_policy = "Recycle" }`, false),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid value.*reclaim_policy = "Recycle".*must be one of \["Retain" "Delete"\]`),
			},
			{
				Config:      volumeConfig(provider, `spec { node_name = "Node_1" }`, false),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid node name.*node_name = "Node_1"`),
			},
			// Declared ahead, without a node: Pending.
			{
				Config: volumeConfig(provider, "", false),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/tf-data"),
					resource.TestCheckResourceAttr(addr, "phase", api.VolumePending),
					resource.TestCheckResourceAttr(addr, "node", ""),
					resource.TestCheckNoResourceAttr(addr, "spec.reclaim_policy"),
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/tf-data",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			// A pod uses it: it lives on that pod's node from now on.
			{
				Config: volumeConfig(provider, "", true),
				Check: func(*terraform.State) error {
					v, err := vols.Get(ctx, "tf-data")
					if err != nil {
						return err
					}
					if home = v.Status.NodeName; home == "" {
						return errorf("the deployment's pod did not place the volume: %+v", v.Status)
					}
					return nil
				},
			},
			// Destroying the deployment leaves the volume and its node.
			{
				Config: volumeConfig(provider, "", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						if got := s.RootModule().Resources[addr].Primary.Attributes["node"]; got != home {
							return errorf("node = %q, want %q", got, home)
						}
						return nil
					},
					func(*terraform.State) error {
						if _, err := c.Client.Deployments("default").Get(ctx, "db"); !api.IsNotFound(err) {
							return errorf("deployment still exists (%v)", err)
						}
						return nil
					},
				),
			},
			// The reclaim policy changes in place.
			{
				Config: volumeConfig(provider, `spec { reclaim_policy = "Delete" }`, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.reclaim_policy", api.ReclaimDelete),
					resource.TestCheckNoResourceAttr(addr, "spec.node_name"),
				),
			},
			// Pinning it where it lives changes only the pin.
			{
				Config:          volumeConfig(provider, pinnedSpec, false),
				ConfigVariables: pin(&home),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						if got := s.RootModule().Resources[addr].Primary.Attributes["spec.node_name"]; got != home {
							return errorf("spec.node_name = %q, want %q", got, home)
						}
						return nil
					},
				),
			},
			// Left out again, the pin stays (the data is there).
			{
				Config:   volumeConfig(provider, `spec { reclaim_policy = "Delete" }`, false),
				PlanOnly: true,
			},
			// Pinned elsewhere: the data cannot move, the volume is replaced.
			{
				Config:          volumeConfig(provider, pinnedSpec, false),
				ConfigVariables: pin(&away),
				PreConfig:       func() { away = other() },
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources[addr].Primary.Attributes
					if a["node"] != away || a["phase"] != api.VolumeAvailable {
						return errorf("replaced volume on %q (%s), want Available on %q", a["node"], a["phase"], away)
					}
					return nil
				},
			},
			// Deleted outside Terraform: the plan recreates it.
			{
				PreConfig: func() {
					if err := vols.Delete(ctx, "tf-data"); err != nil {
						t.Fatal(err)
					}
					waitDeleted(t, func() error { _, err := vols.Get(ctx, "tf-data"); return err })
				},
				Config:             volumeConfig(provider, pinnedSpec, false),
				ConfigVariables:    pin(&away),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:          volumeConfig(provider, pinnedSpec, false),
				ConfigVariables: pin(&away),
				Check:           resource.TestCheckResourceAttrPtr(addr, "node", &away),
			},
		},
	})
}

// pinnedSpec pins the volume to var.pin (see pin).
const pinnedSpec = `
spec {
  reclaim_policy = "Delete"
  node_name      = var.pin
}`

// lazyString is a Terraform variable whose value is read when the step
// runs (a node name an earlier step found).
type lazyString struct{ v *string }

func (l lazyString) MarshalJSON() ([]byte, error) { return json.Marshal(*l.v) }

func pin(node *string) config.Variables { return config.Variables{"pin": lazyString{node}} }
