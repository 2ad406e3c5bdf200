package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/internal/planrules"
)

// validDeployment is a deployment configuration with something in most
// of its blocks, and none of them wrong.
const validDeployment = `deployment "web" {
  metadata {
    name      = "web"
    namespace = "default"
    labels    = { tier = "web" }
  }
  spec {
    replicas                  = 3
    min_ready_seconds         = 5
    progress_deadline_seconds = 120
    selector {
      match_labels = { app = "web" }
    }
    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "25%"
      }
    }
    template {
      labels = { app = "web" }
      container {
        name    = "web"
        image   = "maestro-demo:v1"
        command = ["/app"]
        port {
          name           = "http"
          container_port = 8080
        }
        env {
          name  = "LEVEL"
          value = "debug"
        }
        resources {
          requests {
            cpu    = "100m"
            memory = "64Mi"
          }
          limits {
            memory = "128Mi"
          }
        }
        readiness_probe {
          http_get {
            path = "/healthz"
            port = "http"
          }
        }
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }
      }
      volume {
        name = "data"
        empty_dir {}
      }
    }
  }
}
`

// TestValidateWalk: a valid configuration is answered by the walk, with
// nothing to say, as the framework answers it; every configuration the
// framework has something to say about (each of internal/planrules'
// mistakes, a validator's, an attribute set though read-only, a required
// one left out, a number that is no integer) and every one the walk does
// not handle (an unknown block, a kind with a map validator) goes to the
// framework.
func TestValidateWalk(t *testing.T) {
	ctx := context.Background()
	u, err := newServer("test", shadows{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name     string
		manifest string
		edit     func(tftypes.Value) tftypes.Value
		walk     bool // the walk answers
		invalid  bool // the framework has something to say
	}
	rows := []row{
		{name: "a valid deployment", manifest: validDeployment, walk: true},
		{name: "a valid service", manifest: `service "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector = { app = "web" }
    port {
      port        = 80
      target_port = "http"
    }
  }
}`, walk: true},
		{name: "values known only after apply", manifest: validDeployment, walk: true,
			edit: unknownAt(tftypes.NewAttributePath().WithAttributeName("spec").WithAttributeName("template").
				WithAttributeName("container").WithElementKeyInt(0).WithAttributeName("image"))},
		// The walk leaves an unknown list of blocks to the framework;
		// ValidateConfig waits for its values (readConfig).
		{name: "a block known only after apply (dynamic)", manifest: validDeployment,
			edit: unknownAt(tftypes.NewAttributePath().WithAttributeName("spec").WithAttributeName("template").
				WithAttributeName("container").WithElementKeyInt(0).WithAttributeName("env"))},
		{name: "a validator's refusal", manifest: replace(validDeployment, `memory = "128Mi"`, `memory = "lots"`), invalid: true},
		{name: "a read-only attribute set", manifest: replace(validDeployment, `labels    = { tier = "web" }`, `uid = "u-1"`), invalid: true},
		{name: "a required attribute left out", manifest: replace(validDeployment, `image   = "maestro-demo:v1"`, ``), invalid: true},
		{name: "a number that is no integer", manifest: replace(validDeployment, `replicas                  = 3`, `replicas = 1.5`), invalid: true},
		{name: "a node pool (a map validator: not walked)", manifest: `node_pool "workers" {
  name     = "workers"
  min_size = 1
  max_size = 3
  local {}
}`},
	}
	for _, c := range planrules.Cases {
		rows = append(rows, row{name: "planrules: " + c.Name, manifest: c.Manifest, invalid: true})
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			r, config := manifestConfig(t, tt.manifest)
			raw := config.Raw
			if tt.edit != nil {
				raw = tt.edit(raw)
			}
			dv, err := tfprotov6.NewDynamicValue(raw.Type(), raw)
			if err != nil {
				t.Fatal(err)
			}
			req := &tfprotov6.ValidateResourceConfigRequest{TypeName: typeName(ctx, r), Config: &dv}
			ours := u.validateWalk(ctx, req)
			framework, err := u.ProviderServer.ValidateResourceConfig(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if (ours != nil) != tt.walk {
				t.Errorf("answered by the walk: %v, want %v (the framework said %v)", ours != nil, tt.walk, framework.Diagnostics)
			}
			if ours != nil && len(ours.Diagnostics) > 0 {
				t.Errorf("the walk said %v", ours.Diagnostics)
			}
			if (len(framework.Diagnostics) > 0) != tt.invalid {
				t.Errorf("the framework said %s, want something: %v", diagsText(framework.Diagnostics), tt.invalid)
			}
		})
	}
}

// unknownAt makes the value at p unknown.
func unknownAt(p *tftypes.AttributePath) func(tftypes.Value) tftypes.Value {
	return func(v tftypes.Value) tftypes.Value {
		out, err := tftypes.Transform(v, func(at *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
			if at.Equal(p) {
				return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
			}
			return v, nil
		})
		if err != nil {
			panic(err)
		}
		return out
	}
}

// replace is s with old, which must be in it, replaced by new.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: no " + old)
	}
	return strings.Replace(s, old, new, 1)
}

// typeName is a resource's type name.
func typeName(ctx context.Context, r resource.Resource) string {
	var md resource.MetadataResponse
	r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "maestro"}, &md)
	return md.TypeName
}

func diagsText(ds []*tfprotov6.Diagnostic) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Summary+": "+d.Detail)
	}
	return strings.Join(out, "; ")
}
