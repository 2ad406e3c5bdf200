package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// oneErrorDeployment is a deployment "web" whose template holds extra
// (volumes, settings) and one container with container extra.
func oneErrorDeployment(spec, template, container string) string {
	return `deployment "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {` + spec + `
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }` + template + `
      container {
        name  = "web"
        image = "maestro-demo:v1"` + container + `
      }
    }
  }
}
`
}

// TestOneErrorPerMistake: a mistake that both the provider's own checks
// (what the schema cannot say) and the API's validation see is reported
// once, at the attribute the user wrote.
func TestOneErrorPerMistake(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, manifest, wantAttr, wantText string
	}{
		{"mount of no volume", oneErrorDeployment("", "", `
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }`), "spec.template.container[0].volume_mount[0].name", `no volume of that name`},
		{"volume declared twice", oneErrorDeployment("", `
      volume {
        name = "data"
        empty_dir {}
      }
      volume {
        name = "data"
        empty_dir {}
      }`, ""), "spec.template.volume[1].name", `"data"`},
		{"volume with two sources", oneErrorDeployment("", `
      volume {
        name = "data"
        empty_dir {}
        host_path {
          path = "/tmp"
        }
      }`, ""), "spec.template.volume[0]", "exactly one"},
		{"volume without source", oneErrorDeployment("", `
      volume {
        name = "data"
      }`, ""), "spec.template.volume[0]", "must set exactly one of"},
		{"value_from without source", oneErrorDeployment("", "", `
        env {
          name = "A"
          value_from {}
        }`), "spec.template.container[0].env[0].value_from", "must set exactly one of configMapKeyRef"},
		{"env value and value_from", oneErrorDeployment("", "", `
        env {
          name  = "A"
          value = "x"
          value_from {
            field_ref {
              field_path = "metadata.name"
            }
          }
        }`), "spec.template.container[0].env[0].value_from", "may not be set together with value"},
		{"no container", `deployment "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
    }
  }
}
`, "spec.template.container", "a pod needs at least one container"},
		{"liveness success threshold", oneErrorDeployment("", "", `
        liveness_probe {
          success_threshold = 2
          tcp_socket {
            port = "8080"
          }
        }`), "spec.template.container[0].liveness_probe.success_threshold", "must be 1"},
		{"probe without handler", oneErrorDeployment("", "", `
        readiness_probe {
          period_seconds = 5
        }`), "spec.template.container[0].readiness_probe", "exactly one"},
		{"exec probe without command", oneErrorDeployment("", "", `
        readiness_probe {
          exec {
            command = []
          }
        }`), "spec.template.container[0].readiness_probe.exec.command", "command"},
		{"restart policy Never", oneErrorDeployment("", `
      restart_policy = "Never"`, ""), "spec.template.restart_policy", "Always"},
		{"progress deadline under min ready", oneErrorDeployment(`
    min_ready_seconds         = 30
    progress_deadline_seconds = 20`, "", ""), "spec.progress_deadline_seconds", "greater than"},
		{"invalid persistent volume name", oneErrorDeployment("", `
      volume {
        name = "data"
        persistent {
          name = "Data_1"
        }
      }`, ""), "spec.template.volume[0].persistent.name", "Data_1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, config := manifestConfig(t, c.manifest)
			var resp resource.ValidateConfigResponse
			r.(resource.ResourceWithValidateConfig).ValidateConfig(ctx, resource.ValidateConfigRequest{Config: config}, &resp)
			errs := resp.Diagnostics.Errors()
			if len(errs) != 1 || !hasError(resp.Diagnostics, c.wantAttr, c.wantText) {
				t.Errorf("want one error at %s with %q; got %d:\n%s", c.wantAttr, c.wantText, len(errs), diagText(resp.Diagnostics))
			}
		})
	}
}

// TestPlanTimeChecksWithUnknownValues: while a value is known only after
// apply, the API's validation waits, and the provider's own checks of what
// is known report the mistake (once).
func TestPlanTimeChecksWithUnknownValues(t *testing.T) {
	ctx := context.Background()
	r, config := manifestConfig(t, oneErrorDeployment("", "", `
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }`))
	// The image comes from another resource: unknown at plan time.
	raw, err := tftypes.Transform(config.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if strings.HasSuffix(p.String(), `AttributeName("image")`) {
			return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if raw.IsFullyKnown() {
		t.Fatal("the image did not become unknown")
	}
	config.Raw = raw
	var resp resource.ValidateConfigResponse
	r.(resource.ResourceWithValidateConfig).ValidateConfig(ctx, resource.ValidateConfigRequest{Config: config}, &resp)
	if len(resp.Diagnostics.Errors()) != 1 || !hasError(resp.Diagnostics, "spec.template.container[0].volume_mount[0].name", `No volume named "data"`) {
		t.Errorf("want the provider's one error on the mount; got:\n%s", diagText(resp.Diagnostics))
	}
}
