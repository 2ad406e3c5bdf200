package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

// deploymentConfig is a maestro_deployment with the given replicas, image
// and resource requests.
func deploymentConfig(provider string, replicas int, image, cpu, memory string) string {
	return provider + fmt.Sprintf(`
resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = "default"
    labels    = { app = "web" }
  }
  spec {
    replicas = %d
    selector {
      match_labels = { app = "web" }
    }
    strategy {
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }
    template {
      labels = { app = "web", tier = "front" }
      container {
        name  = "web"
        image = %q
        args  = ["--port", "8080"]
        env {
          name  = "MODE"
          value = "prod"
        }
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = %q
            memory = %q
          }
          limits {
            memory = "2Gi"
          }
        }
      }
    }
  }
  timeouts {
    create = "2m"
    update = "2m"
  }
}
`, replicas, image, cpu, memory)
}

func TestAccDeploymentResource(t *testing.T) {
	c, provider := accCluster(t, 3)
	ctx := context.Background()
	deployments := c.Client.Deployments("default")
	const addr = "maestro_deployment.web"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := deployments.Get(ctx, "web"); !api.IsNotFound(err) {
				return errorf("deployment still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: deploymentConfig(provider, 2, "demo:v1", "1000m", "1Gi"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/web"),
					resource.TestCheckResourceAttr(addr, "spec.replicas", "2"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.image", "demo:v1"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.resources.requests.cpu", "1000m"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.port.0.container_port", "8080"),
					resource.TestCheckNoResourceAttr(addr, "spec.template.container.0.port.0.protocol"),
					resource.TestCheckResourceAttrSet(addr, "metadata.uid"),
					func(*terraform.State) error {
						// wait_for_rollout: every replica is available once apply returns.
						d, err := deployments.Get(ctx, "web")
						if err != nil {
							return err
						}
						if d.Status.AvailableReplicas != 2 || d.Status.UpdatedReplicas != 2 {
							return errorf("after apply: %d available, %d updated, want 2", d.Status.AvailableReplicas, d.Status.UpdatedReplicas)
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
				// Import reads the server's canonical "1" for the configured
				// "1000m"; the next step shows the two plan no change.
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for_rollout", "spec.template.container.0.resources.requests.cpu"},
			},
			// The same quantities spelled differently are not a change.
			{
				Config:   deploymentConfig(provider, 2, "demo:v1", "1", "1024Mi"),
				PlanOnly: true,
			},
			// Update in place: image (a rollout) and replicas.
			{
				Config: deploymentConfig(provider, 3, "demo:v2", "500m", "1Gi"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.replicas", "3"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.image", "demo:v2"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.resources.requests.cpu", "500m"),
				),
			},
			// Drift: scaling through the API shows in the plan, and apply converges.
			{
				PreConfig: func() {
					d, err := deployments.Get(ctx, "web")
					if err != nil {
						t.Fatal(err)
					}
					d.Spec.Replicas = api.Ptr[int32](1)
					d.Labels["added-by-other-tool"] = "yes" // not tracked: no diff
					if _, err := deployments.Update(ctx, d); err != nil {
						t.Fatal(err)
					}
				},
				Config: deploymentConfig(provider, 3, "demo:v2", "500m", "1Gi"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					},
				},
				Check: func(*terraform.State) error {
					d, err := deployments.Get(ctx, "web")
					if err != nil {
						return err
					}
					if *d.Spec.Replicas != 3 || d.Labels["added-by-other-tool"] != "yes" {
						return errorf("replicas %d labels %v: want 3 replicas and the other tool's label kept", *d.Spec.Replicas, d.Labels)
					}
					return nil
				},
			},
			// Deleted outside Terraform: recreated.
			{
				PreConfig: func() {
					if err := deployments.Delete(ctx, "web"); err != nil {
						t.Fatal(err)
					}
					waitDeleted(t, func() error { _, err := deployments.Get(ctx, "web"); return err })
				},
				Config: deploymentConfig(provider, 3, "demo:v2", "500m", "1Gi"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttr(addr, "spec.replicas", "3"),
			},
		},
	})
}

func TestAccDeploymentResource_rolloutFailsWithReason(t *testing.T) {
	_, provider := accCluster(t, 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: provider + `
resource "maestro_deployment" "big" {
  metadata {
    name      = "big"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "big" }
    }
    template {
      labels = { app = "big" }
      container {
        name  = "big"
        image = "demo:v1"
        resources {
          requests { cpu = "5000" }
        }
      }
    }
  }
  timeouts {
    create = "10s"
  }
}`,
			ExpectError: regexp.MustCompile(`(?s)Deployment default/big did not roll out.*PodScheduled=False\s+\(Unschedulable\):\s+0/1\s+nodes\s+available:\s+1\s+insufficient\s+cpu`),
		}},
	})
}

func TestAccDeploymentResource_planValidation(t *testing.T) {
	_, provider := accCluster(t, 0)
	config := func(port int, memory string) string {
		return provider + fmt.Sprintf(`
resource "maestro_deployment" "bad" {
  metadata {
    name      = "bad"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "bad" }
    }
    template {
      labels = { app = "bad" }
      container {
        name  = "bad"
        image = "demo:v1"
        port { container_port = %d }
        resources {
          requests { memory = %q }
        }
      }
    }
  }
}`, port, memory)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config(70000, "1Gi"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Value out of range.*container_port = 70000.*70000 must be between 1 and 65535`),
			},
			{
				Config:      config(80, "lots"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid quantity.*memory = "lots"`),
			},
		},
	})
}

// A minimal deployment leaves replicas and strategy to the server; its
// defaults must not show as a diff, and import must not invent blocks.
func TestAccDeploymentResource_minimal(t *testing.T) {
	_, provider := accCluster(t, 1)
	const addr = "maestro_deployment.min"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: provider + `
resource "maestro_deployment" "min" {
  metadata {
    name      = "min"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "min" }
    }
    template {
      labels = { app = "min" }
      container {
        name  = "app"
        image = "demo:v1"
      }
    }
  }
}`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.replicas", "1"),
					resource.TestCheckResourceAttr(addr, "wait_for_rollout", "true"),
					resource.TestCheckNoResourceAttr(addr, "spec.strategy.type"),
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/min",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName:  addr,
				ImportState:   true,
				ImportStateId: "min",
				ExpectError:   regexp.MustCompile(`(?s)Invalid import ID.*namespace/name`),
			},
		},
	})
}

// fullTemplateConfig uses every block of the pod template.
func fullTemplateConfig(provider, image string, period int) string {
	return provider + fmt.Sprintf(`
resource "maestro_config_map" "cfg" {
  metadata {
    namespace = "default"
    name      = "store-config"
  }

  data      = { mode = "fast" }
}

resource "maestro_deployment" "store" {
  metadata {
    name      = "store"
    namespace = "default"
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "store" }
    }
    template {
      labels                           = { app = "store" }
      termination_grace_period_seconds = 5
      node_selector                    = { "node.maestro.dev/simulated" = "true" }
      container {
        name  = "store"
        image = %q
        env {
          name = "POD_NAME"
          value_from {
            field_ref { field_path = "metadata.name" }
          }
        }
        env {
          name = "MODE"
          value_from {
            config_map_key_ref {
              name = maestro_config_map.cfg.metadata.name
              key  = "mode"
            }
          }
        }
        port {
          name           = "http"
          container_port = 8080
        }
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }
        volume_mount {
          name       = "scratch"
          mount_path = "/tmp"
          read_only  = false
        }
        volume_mount {
          name       = "config"
          mount_path = "/etc/store"
          read_only  = true
        }
        liveness_probe {
          http_get {
            path = "/healthz"
            port = "http"
          }
          period_seconds = %d
        }
        readiness_probe {
          tcp_socket { port = "8080" }
          failure_threshold = 2
        }
        startup_probe {
          exec { command = ["true"] }
        }
      }
      volume {
        name = "data"
        persistent { name = "store-data" }
      }
      volume {
        name = "scratch"
        empty_dir { size_limit = "64Mi" }
      }
      volume {
        name = "config"
        config_map { name = maestro_config_map.cfg.metadata.name }
      }
      toleration {
        key      = "dedicated"
        operator = "Exists"
        effect   = "NoSchedule"
      }
      toleration {
        key                = "maestro.dev/unreachable"
        effect             = "NoExecute"
        value              = "x"
        toleration_seconds = 60
      }
      topology_spread_constraint {
        max_skew           = 1
        topology_key       = "topology.maestro.dev/zone"
        when_unsatisfiable = "ScheduleAnyway"
        label_selector {
          match_labels = { app = "store" }
        }
      }
      affinity {
        node_affinity {
          required_term {
            match_expression {
              key      = "maestro.dev/hostname"
              operator = "Exists"
            }
          }
          preferred {
            weight = 10
            match_expression {
              key      = "topology.maestro.dev/zone"
              operator = "In"
              values   = ["zone-a"]
            }
          }
        }
        pod_anti_affinity {
          preferred {
            weight       = 50
            topology_key = "maestro.dev/hostname"
            label_selector {
              match_expression {
                key      = "app"
                operator = "In"
                values   = ["store"]
              }
            }
          }
        }
      }
    }
  }
  timeouts {
    create = "1m"
    update = "1m"
  }
}
`, image, period)
}

// Every block of the template round-trips: the server's defaults (probe
// timings, toleration operator, restart policy) are no diff, import reads
// back the same state, and a probe setting changes in place.
func TestAccDeploymentResource_fullTemplate(t *testing.T) {
	c, provider := accCluster(t, 3)
	ctx := context.Background()
	const addr = "maestro_deployment.store"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fullTemplateConfig(provider, "demo:v1", 5),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.template.restart_policy", "Always"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.liveness_probe.timeout_seconds", "1"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.liveness_probe.http_get.scheme", "HTTP"),
					resource.TestCheckResourceAttr(addr, "spec.template.toleration.1.operator", "Equal"),
					func(*terraform.State) error {
						d, err := c.Client.Deployments("default").Get(ctx, "store")
						if err != nil {
							return err
						}
						s := d.Spec.Template.Spec
						ct := s.Containers[0]
						switch {
						case len(s.Volumes) != 3 || s.Volumes[0].Persistent == nil || s.Volumes[0].Persistent.Name != "store-data":
							return errorf("volumes %+v", s.Volumes)
						case s.Volumes[1].EmptyDir == nil || s.Volumes[1].EmptyDir.SizeLimit == nil || s.Volumes[1].EmptyDir.SizeLimit.String() != "64Mi":
							return errorf("empty dir %+v", s.Volumes[1].EmptyDir)
						case ct.LivenessProbe == nil || ct.LivenessProbe.HTTPGet == nil || ct.LivenessProbe.HTTPGet.Port.String() != "http" || ct.LivenessProbe.PeriodSeconds != 5:
							return errorf("liveness probe %+v", ct.LivenessProbe)
						case ct.Env[1].ValueFrom == nil || ct.Env[1].ValueFrom.ConfigMapKeyRef == nil || ct.Env[1].ValueFrom.ConfigMapKeyRef.Key != "mode":
							return errorf("env %+v", ct.Env)
						case len(s.TopologySpreadConstraints) != 1 || s.TopologySpreadConstraints[0].WhenUnsatisfiable != api.ScheduleAnyway:
							return errorf("spread %+v", s.TopologySpreadConstraints)
						case s.Affinity == nil || s.Affinity.PodAntiAffinity == nil || len(s.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1:
							return errorf("affinity %+v", s.Affinity)
						case len(s.Tolerations) != 2 || api.Deref(s.Tolerations[1].TolerationSeconds, 0) != 60:
							return errorf("tolerations %+v", s.Tolerations)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/store",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for_rollout"},
			},
			{
				Config: fullTemplateConfig(provider, "demo:v1", 7),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.TestCheckResourceAttr(addr, "spec.template.container.0.liveness_probe.period_seconds", "7"),
			},
		},
	})
}

func TestAccDeploymentResource_templateValidation(t *testing.T) {
	_, provider := accCluster(t, 0)
	config := func(template string) string {
		return provider + `
resource "maestro_deployment" "bad" {
  metadata {
    name      = "bad"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "bad" }
    }
    template {
      labels = { app = "bad" }
` + template + `
    }
  }
}`
	}
	container := func(extra string) string {
		return `container {
        name  = "bad"
        image = "demo:v1"
        ` + extra + `
      }`
	}
	var steps []resource.TestStep
	for _, tc := range []struct{ template, want string }{
		{`restart_policy = "Sometimes"
` + container(""), `(?s)restart_policy.*"Sometimes" must be one of`},
		{`restart_policy = "Never"
` + container(""), `(?s)restart_policy = "Never".*unsupported\s+value\s+"Never":\s+supported\s+values:\s+"Always"`},
		{container(`liveness_probe {
          http_get { port = "8080" }
          tcp_socket { port = "8080" }
        }`), `(?s)liveness_probe.*must\s+set\s+exactly\s+one\s+of\s+exec,\s+httpGet\s+or\s+tcpSocket`},
		{container(`startup_probe {
          exec { command = ["true"] }
          success_threshold = 2
        }`), `(?s)success_threshold = 2.*must\s+be\s+1\s+for\s+liveness\s+and\s+startup\s+probes`},
		{container(`readiness_probe {
          tcp_socket { port = "99999" }
        }`), `(?s)port = "99999".*99999 must be a port number`},
		{container(`readiness_probe {
          tcp_socket { port = "80" }
          period_seconds = 0
        }`), `(?s)period_seconds = 0.*0 must be between 1`},
		{container(`volume_mount {
          name       = "nope"
          mount_path = "/data"
        }`), `(?s)name\s+= "nope".*no\s+volume\s+of\s+that\s+name`},
		{container("") + `
      volume {
        name = "v"
      }`, `(?s)must\s+set\s+exactly\s+one\s+of\s+emptyDir,\s+hostPath`},
		{container(`env {
          name = "X"
          value_from {}
        }`), `(?s)must\s+set\s+exactly\s+one\s+of\s+configMapKeyRef`},
	} {
		steps = append(steps, resource.TestStep{Config: config(tc.template), PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}
