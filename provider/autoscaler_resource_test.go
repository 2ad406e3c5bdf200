package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller/autoscaler"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

func autoscalerConfig(provider, body string) string {
	return provider + `
resource "maestro_autoscaler" "web" {
  metadata {
    namespace = "default"
    name      = "web"
    labels    = { app = "web" }
  }
  spec {
` + body + `
  }
}`
}

func TestAccAutoscalerResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	hpas := c.Client.Autoscalers("default")
	const addr = "maestro_autoscaler.web"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := hpas.Get(ctx, "web"); !api.IsNotFound(err) {
				return errorf("autoscaler still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			// Plan-time checks: the schema's, and the API's own rules.
			{
				Config: autoscalerConfig(provider, `
  target { name = "web" }
  max_replicas = 6
  metric {
    resource            = "cpu"
    average_utilization = 0
  }`),
				ExpectError: regexp.MustCompile(`(?s)0 must be between 1`),
			},
			{
				Config:      autoscalerConfig(provider, `max_replicas = 6`),
				ExpectError: regexp.MustCompile(`Missing target`),
			},
			{
				Config: autoscalerConfig(provider, `
  target { name = "web" }
  min_replicas = 5
  max_replicas = 3`),
				ExpectError: regexp.MustCompile(`(?s)max_replicas:.*minReplicas\s+\(5\)`),
			},
			{
				Config: autoscalerConfig(provider, `
  target { name = "web" }
  max_replicas = 4
  metric {
    resource            = "cpu"
    average_utilization = 60
  }
  behavior {
    scale_down { stabilization_window_seconds = 60 }
  }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/web"),
					resource.TestCheckResourceAttr(addr, "spec.target.kind", "Deployment"),
					resource.TestCheckResourceAttr(addr, "spec.min_replicas", "1"),
					resource.TestCheckResourceAttr(addr, "spec.metric.#", "1"),
					resource.TestCheckResourceAttr(addr, "spec.behavior.scale_down.stabilization_window_seconds", "60"),
					resource.TestCheckNoResourceAttr(addr, "spec.behavior.scale_up.stabilization_window_seconds"),
					func(*terraform.State) error {
						a, err := hpas.Get(ctx, "web")
						if err != nil {
							return err
						}
						// The server's defaults fill what the configuration left out.
						down := a.Spec.Behavior.ScaleDown
						if api.Deref(down.StabilizationWindowSeconds, 0) != 60 || len(down.Policies) != 1 || len(a.Spec.Behavior.ScaleUp.Policies) != 2 {
							return errorf("behavior %+v / %+v, want the 60 s window and Kubernetes' default policies", *down, *a.Spec.Behavior.ScaleUp)
						}
						return nil
					},
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "default/web",
				ImportStateVerify: true,
			},
			{
				Config: autoscalerConfig(provider, `
  target { name = "web" }
  min_replicas = 2
  max_replicas = 6
  metric {
    resource            = "cpu"
    average_utilization = 60
  }
  metric {
    resource      = "memory"
    average_value = "0.25Gi"
  }
  behavior {
    scale_up {
      select_policy = "Min"
      policy {
        type           = "Pods"
        value          = 2
        period_seconds = 30
      }
    }
  }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.metric.1.average_value", "0.25Gi"),
					resource.TestCheckResourceAttr(addr, "spec.behavior.scale_up.policy.0.value", "2"),
					resource.TestCheckNoResourceAttr(addr, "spec.behavior.scale_down"),
					func(*terraform.State) error {
						a, err := hpas.Get(ctx, "web")
						if err != nil {
							return err
						}
						up, down := a.Spec.Behavior.ScaleUp, a.Spec.Behavior.ScaleDown
						if api.Deref(a.Spec.MinReplicas, 0) != 2 || a.Spec.MaxReplicas != 6 || len(a.Spec.Metrics) != 2 ||
							api.Deref(up.SelectPolicy, "") != api.MinChangePolicySelect || api.Deref(down.StabilizationWindowSeconds, 0) != 300 {
							return errorf("spec %+v, up %+v, down %+v: want min 2, max 6, two metrics, Min select, the default 300 s window back", a.Spec, *up, *down)
						}
						return nil
					},
				),
			},
		},
	})
}

// cpuMetrics reports every running pod using cpu millicores, sampled now.
type cpuMetrics struct {
	c   atomic.Pointer[client.Client]
	cpu int64
}

func (f *cpuMetrics) PodMetrics(ctx context.Context, ns string, sel labels.Selector) ([]*autoscaler.PodUsage, error) {
	c := f.c.Load()
	if c == nil {
		return nil, errors.New("not ready")
	}
	pods, _, err := c.Pods(ns).List(ctx, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []*autoscaler.PodUsage
	for _, p := range pods {
		if p.Status.Phase == api.PodRunning {
			out = append(out, &autoscaler.PodUsage{Name: p.Name, Timestamp: time.Now(), Window: time.Millisecond,
				Containers: map[string]autoscaler.Usage{"web": {CPUMilli: f.cpu}}})
		}
	}
	return out, nil
}

// A deployment an autoscaler has scaled plans clean, and an update of its
// template leaves the autoscaler's count alone.
func TestAccDeploymentResource_autoscaled(t *testing.T) {
	metrics := &cpuMetrics{cpu: 300} // 300 % of the 100m request
	c, provider := accCluster(t, 2, func(o *cluster.Options) {
		o.Manager.Autoscaler = autoscaler.Config{SyncPeriod: 200 * time.Millisecond, CPUInitializationPeriod: time.Millisecond, Metrics: metrics}
	})
	metrics.c.Store(c.Client)
	ctx := context.Background()
	deps := c.Client.Deployments("default")
	config := func(image string) string {
		return deploymentConfig(provider, 1, image, "100m", "64Mi") + `
resource "maestro_autoscaler" "web" {
  metadata {
    namespace = "default"
    name      = "web"
  }
  spec {
    target { name = "web" }
    max_replicas = 4
    metric {
      resource            = "cpu"
      average_utilization = 50
    }
  }
}`
	}
	replicas := func() int32 {
		d, err := deps.Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return api.Deref(d.Spec.Replicas, 1)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config("demo:1")},
			{
				PreConfig: func() {
					cluster.Eventually(t, time.Minute, "the autoscaler scales web to 4", func() (bool, string) {
						n := replicas()
						return n == 4, fmt.Sprintf("%d replicas", n)
					})
				},
				Config:   config("demo:1"),
				PlanOnly: true, // fails on a non-empty plan
			},
			{
				Config: config("demo:2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_deployment.web", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_deployment.web", "spec.replicas", "1"),
					func(*terraform.State) error {
						if n := replicas(); n != 4 {
							return errorf("after the update the deployment has %d replicas, want the autoscaler's 4", n)
						}
						return nil
					},
				),
			},
		},
	})
}
