package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// Static mistakes fail the plan at their attribute, before any request.
func TestAccNodePool_planTimeValidation(t *testing.T) {
	_, provider := accCluster(t, 0)
	var steps []resource.TestStep
	for _, tc := range []struct{ body, want string }{
		{`local {}
  min_size = 3
  max_size = 1`, `(?s)Invalid max_size.*max_size = 1.*max_size \(1\) must be greater than or equal to min_size \(3\)`},
		{`local {}
  size = 5
  min_size = 1
  max_size = 3`, `(?s)Invalid size.*size\s+= 5`},
		{`local {}`, `(?s)Missing size`},
		{`size = 1`, `(?s)Missing machine provider`},
		{`size = 1
  ssh {
    hosts       = ["10.0.0.5"]
    private_key = "k"
  }`, `(?s)Missing host_keys.*ssh-keyscan`},
		{`size = 1
  ssh {
    hosts       = ["10.0.0.5", "10.0.0.5"]
    private_key = "k"
    host_keys   = ["ssh-ed25519 AAAA"]
  }`, `(?s)Invalid node pool.*spec.ssh.hosts\[1\]: duplicate value "10.0.0.5"`},
		{`size = 1
  local {}
  drain_timeout = "soon"`, `(?s)Invalid duration.*"soon" is not a duration`},
	} {
		steps = append(steps, resource.TestStep{
			Config:      provider + "resource \"maestro_node_pool\" \"p\" {\n  name = \"p\"\n  " + tc.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(tc.want),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// The private key of an ssh pool goes into the secret the pool names,
// and nowhere into state; the pool imports by name; destroy removes the
// secret too. (No controllers run here, so the apply does not wait.)
func TestAccNodePool_sshKeyInSecretOnly(t *testing.T) {
	c, provider := accCluster(t, 0)
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----\n"
	config := provider + fmt.Sprintf(`
resource "maestro_node_pool" "p" {
  name           = "onprem"
  size           = 2
  wait_for_ready = false
  labels         = { tier = "edge" }
  ssh {
    hosts               = ["10.0.0.5", "10.0.0.6"]
    private_key         = %q
    private_key_version = 1
    host_keys           = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
  }
}`, key)
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := c.Client.Secrets(api.NamespaceSystem).Get(ctx, "nodepool-onprem-ssh"); !api.IsNotFound(err) {
				return fmt.Errorf("the key's secret survived destroy (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_node_pool.p", "min_size", "2"),
					resource.TestCheckResourceAttr("maestro_node_pool.p", "max_size", "2"),
					resource.TestCheckNoResourceAttr("maestro_node_pool.p", "ssh.private_key"),
					func(s *terraform.State) error {
						for k, v := range s.RootModule().Resources["maestro_node_pool.p"].Primary.Attributes {
							if strings.Contains(v, "c2VjcmV0") {
								return fmt.Errorf("state attribute %s holds the private key", k)
							}
						}
						p, err := c.Client.NodePools().Get(ctx, "onprem")
						if err != nil {
							return err
						}
						if p.Spec.Provider != api.ProviderSSH || p.Spec.SSH.PrivateKeySecretRef != "nodepool-onprem-ssh" || *p.Spec.Size != 2 {
							return fmt.Errorf("pool spec = %+v, ssh %+v", p.Spec, p.Spec.SSH)
						}
						sec, err := c.Client.Secrets(api.NamespaceSystem).Get(ctx, "nodepool-onprem-ssh")
						if err != nil {
							return err
						}
						if string(sec.Data["privateKey"]) != key {
							return fmt.Errorf("the secret does not hold the key")
						}
						return nil
					},
				),
			},
			{
				ResourceName:            "maestro_node_pool.p",
				ImportState:             true,
				ImportStateId:           "onprem",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"ssh.private_key_version", "wait_for_ready"},
			},
		},
	})
	if b, err := os.ReadFile("terraform.tfstate"); err == nil && strings.Contains(string(b), "c2VjcmV0") {
		t.Error("the key is in a state file")
	}
}

// Size, range, template and behaviour changes apply in place and leave
// an empty plan (no perpetual diff from the server's defaults or the
// sizes the plan fills in); a pool deleted outside Terraform is created
// again.
func TestAccNodePool_updates(t *testing.T) {
	c, provider := accCluster(t, 0)
	pool := func(body string) string {
		return provider + "resource \"maestro_node_pool\" \"p\" {\n  name = \"local\"\n  wait_for_ready = false\n  local {}\n" + body + "\n}\n"
	}
	ctx := context.Background()
	spec := func(check func(s api.NodePoolSpec) error) resource.TestCheckFunc {
		return func(*terraform.State) error {
			p, err := c.Client.NodePools().Get(ctx, "local")
			if err != nil {
				return err
			}
			return check(p.Spec)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: pool(`size = 2`), Check: spec(func(s api.NodePoolSpec) error {
				if *s.Size != 2 || s.MinSize != 2 || s.MaxSize != 2 || s.Provider != api.ProviderLocal || *s.DrainTimeoutSeconds != 300 {
					return fmt.Errorf("spec %+v", s)
				}
				return nil
			})},
			{Config: pool(`size = 3`), Check: resource.TestCheckResourceAttr("maestro_node_pool.p", "max_size", "3")},
			{Config: pool("min_size = 1\n  max_size = 4"), Check: spec(func(s api.NodePoolSpec) error {
				if *s.Size != 3 || s.MinSize != 1 || s.MaxSize != 4 {
					return fmt.Errorf("the range moved the size: %+v", s)
				}
				return nil
			})},
			{Config: pool(`size = 3
  labels = { tier = "b" }
  taint {
    key    = "dedicated"
    value  = "b"
    effect = "NoSchedule"
  }
  drain_timeout = "120s"
  rollout {
    max_surge = "25%"
  }
  remediation {
    startup_timeout = "3m"
  }`), Check: spec(func(s api.NodePoolSpec) error {
				if s.Labels["tier"] != "b" || len(s.Taints) != 1 || *s.DrainTimeoutSeconds != 120 || s.Rollout.MaxSurge.String() != "25%" ||
					*s.Remediation.StartupTimeoutSeconds != 180 || s.Rollout.MaxUnavailable.String() != "0" {
					return fmt.Errorf("spec %+v", s)
				}
				return nil
			})},
			{
				PreConfig: func() {
					if err := c.Client.NodePools().Delete(ctx, "local"); err != nil {
						t.Fatal(err)
					}
				},
				Config: pool(`size = 1`),
				Check:  resource.TestCheckResourceAttr("maestro_node_pool.p", "size", "1"),
			},
		},
	})
}

// TestAccNodePool_autoscaling: with autoscaling, the size the cluster
// autoscaler sets is no diff, and an apply that changes the bounds keeps
// it (within them) rather than resetting it to the configured size.
func TestAccNodePool_autoscaling(t *testing.T) {
	c, provider := accCluster(t, 0)
	pool := func(maxSize int) string {
		return provider + fmt.Sprintf("resource \"maestro_node_pool\" \"p\" {\n  name = \"auto\"\n  wait_for_ready = false\n  local {}\n"+
			"  autoscaling = true\n  size = 1\n  min_size = 1\n  max_size = %d\n  template_capacity = { cpu = \"4\", memory = \"16Gi\" }\n}\n", maxSize)
	}
	ctx := context.Background()
	spec := func(want int32) resource.TestCheckFunc {
		return func(*terraform.State) error {
			p, err := c.Client.NodePools().Get(ctx, "auto")
			if err != nil {
				return err
			}
			if !p.Spec.Autoscaling || *p.Spec.Size != want || p.Annotations[api.AnnotationTemplateCapacity] != "cpu=4,memory=16Gi" {
				return fmt.Errorf("spec autoscaling %v size %d, annotations %v; want true %d, the template capacity", p.Spec.Autoscaling, *p.Spec.Size, p.Annotations, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: pool(4), Check: spec(1)},
			{
				PreConfig: func() { // the autoscaler grows the pool
					cluster.Update(t, ctx, c.Client.NodePools(), "auto", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](3) })
				},
				Config: pool(4), PlanOnly: true,
			},
			{Config: pool(2), Check: resource.ComposeTestCheckFunc(spec(2), resource.TestCheckResourceAttr("maestro_node_pool.p", "size", "1"))},
		},
	})
}
