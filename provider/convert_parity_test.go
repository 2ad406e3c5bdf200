package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/convert"
	"github.com/maestro-dev/maestro/internal/schema"
)

// TestConvertParity: for the same configuration, the provider's expand
// and internal/convert's ToObject build the same API object, so
// `terraform plan` and `maestro plan` mean the same thing by it.
func TestConvertParity(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		kind, body string
		res        resource.Resource
		expand     func(context.Context, tfsdk.Plan, *diag.Diagnostics) api.Object
	}{
		{"namespace", `metadata {
  name = "shop"
  labels = { team = "a" }
}`, NewNamespaceResource(), expandVia(expandNamespace, func() *api.Namespace { return &api.Namespace{} })},
		{"config_map", `metadata {
  namespace = "shop"
  name = "settings"
}
data = { a = "1" }`, NewConfigMapResource(), expandVia(expandConfigMap, func() *api.ConfigMap { return &api.ConfigMap{} })},
		{"secret", `metadata {
  namespace = "shop"
  name = "db"
}
type = "Opaque"
data = { password = "x" }`, NewSecretResource(), expandVia(expandSecret, func() *api.Secret { return &api.Secret{} })},
		{"volume", `metadata {
  name = "data"
  namespace = "shop"
}
spec {
  reclaim_policy = "Delete"
}`, NewVolumeResource(), expandVia(expandVolumeObject, func() *api.PersistentVolume { return &api.PersistentVolume{} })},
		{"service", `metadata {
  name = "web"
  namespace = "shop"
}
spec {
  type = "NodePort"
  selector = { app = "web" }
  session_affinity = "None"
  port {
    name = "http"
    protocol = "TCP"
    port = 80
    target_port = "http"
  }
}`, NewServiceResource(), expandVia(expandService, func() *api.Service { return &api.Service{} })},
		{"deployment", `metadata {
  name = "web"
  namespace = "shop"
  labels = { app = "web" }
}
spec {
  replicas = 3
  min_ready_seconds = 5
  progress_deadline_seconds = 300
  selector {
    match_labels = { app = "web" }
  }
  strategy {
    type = "RollingUpdate"
    rolling_update {
      max_surge = "1"
      max_unavailable = "25%"
    }
  }
  template {
    labels = { app = "web" }
    restart_policy = "Always"
    container {
      name = "web"
      image = "demo:1"
      args = ["serve"]
      env {
        name = "A"
        value_from {
          config_map_key_ref {
            name = "settings"
            key = "a"
          }
        }
      }
      port {
        container_port = 8080
      }
      resources {
        requests {
          cpu = "1000m"
          memory = "1Gi"
        }
      }
      volume_mount {
        name = "data"
        mount_path = "/data"
        read_only = false
      }
      readiness_probe {
        period_seconds = 5
        timeout_seconds = 1
        success_threshold = 1
        failure_threshold = 3
        initial_delay_seconds = 0
        http_get {
          path = "/healthz"
          port = "8080"
          scheme = "HTTP"
        }
      }
    }
    volume {
      name = "data"
      empty_dir {
        size_limit = "64Mi"
      }
    }
    affinity {
      pod_anti_affinity {
        required {
          topology_key = "kubernetes.io/hostname"
          label_selector {
            match_labels = { app = "web" }
          }
        }
      }
    }
    toleration {
      key = "k"
      operator = "Exists"
    }
    security_context {
      run_as_user = 1000
      run_as_non_root = true
    }
    image_pull_secrets {
      name = "registry"
    }
  }
}`, NewDeploymentResource(), expandVia(expandDeployment, func() *api.Deployment { return &api.Deployment{} })},
		{"pod", `metadata {
  name = "debug"
  namespace = "shop"
}
spec {
  restart_policy = "Never"
  container {
    name = "c"
    image = "demo:1"
    command = ["/bin/sh"]
    env_from {
      prefix = "CM_"
      config_map_ref {
        name = "settings"
      }
    }
    security_context {
      read_only_root_filesystem = true
      capabilities {
        drop = ["ALL"]
      }
    }
  }
}`, NewPodResource(), expandVia(expandPod, func() *api.Pod { return &api.Pod{} })},
		{"autoscaler", `metadata {
  namespace = "shop"
  name = "web"
}
spec {
  min_replicas = 2
  max_replicas = 10
  target {
    kind = "Deployment"
    name = "web"
  }
  metric {
    resource = "cpu"
    average_utilization = 70
  }
  behavior {
    scale_down {
      stabilization_window_seconds = 60
    }
  }
}`, NewAutoscalerResource(), expandVia(expandAutoscaler, func() *api.Autoscaler { return &api.Autoscaler{} })},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			f, diags := hclparse.NewParser().ParseHCL([]byte(tc.body), tc.kind+".hcl")
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			v, diags := hcldec.Decode(f.Body, schema.Spec(tc.kind), nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			mine, err := convert.ToObject(tc.kind, v)
			if err != nil {
				t.Fatal(err)
			}
			attrs, err := convert.FromCty(v)
			if err != nil {
				t.Fatal(err)
			}
			var sr resource.SchemaResponse
			tc.res.Schema(ctx, resource.SchemaRequest{}, &sr)
			raw, err := toTF(sr.Schema.Type().TerraformType(ctx), attrs)
			if err != nil {
				t.Fatal(err)
			}
			var d diag.Diagnostics
			theirs := tc.expand(ctx, tfsdk.Plan{Schema: sr.Schema, Raw: raw}, &d)
			if d.HasError() {
				t.Fatal(d)
			}
			api.SetTypeMeta(theirs)
			api.Default(mine)
			api.Default(theirs)
			a, _ := json.MarshalIndent(theirs, "", " ")
			b, _ := json.MarshalIndent(mine, "", " ")
			if string(a) != string(b) {
				t.Errorf("the provider's expand and convert.ToObject differ:\nprovider %s\nconvert  %s", a, b)
			}
		})
	}
}

// expandVia reads the plan into a resource's model and runs its expand on
// a new object, as Create does.
func expandVia[M any, T api.Object](expand func(context.Context, *M, *M, *M, T, *diag.Diagnostics), newObj func() T) func(context.Context, tfsdk.Plan, *diag.Diagnostics) api.Object {
	return func(ctx context.Context, p tfsdk.Plan, diags *diag.Diagnostics) api.Object {
		var m M
		diags.Append(p.Get(ctx, &m)...)
		obj := newObj()
		if diags.HasError() {
			return obj
		}
		expand(ctx, &m, nil, &m, obj, diags)
		return obj
	}
}

// toTF builds a Terraform value of type typ from an attribute tree (nil
// for what is not set).
func toTF(typ tftypes.Type, v any) (tftypes.Value, error) {
	if v == nil {
		return tftypes.NewValue(typ, nil), nil
	}
	switch {
	case typ.Is(tftypes.Object{}):
		m, ok := v.(map[string]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want an object, got %T", v)
		}
		vals := map[string]tftypes.Value{}
		for name, at := range typ.(tftypes.Object).AttributeTypes {
			val, err := toTF(at, m[name])
			if err != nil {
				return tftypes.Value{}, fmt.Errorf("%s: %w", name, err)
			}
			vals[name] = val
		}
		return tftypes.NewValue(typ, vals), nil
	case typ.Is(tftypes.List{}), typ.Is(tftypes.Set{}):
		var et tftypes.Type
		if l, ok := typ.(tftypes.List); ok {
			et = l.ElementType
		} else {
			et = typ.(tftypes.Set).ElementType
		}
		l, ok := v.([]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a list, got %T", v)
		}
		vals := make([]tftypes.Value, len(l))
		for i, e := range l {
			val, err := toTF(et, e)
			if err != nil {
				return tftypes.Value{}, err
			}
			vals[i] = val
		}
		return tftypes.NewValue(typ, vals), nil
	case typ.Is(tftypes.Map{}):
		m, ok := v.(map[string]any)
		if !ok {
			return tftypes.Value{}, fmt.Errorf("want a map, got %T", v)
		}
		vals := map[string]tftypes.Value{}
		for k, e := range m {
			val, err := toTF(typ.(tftypes.Map).ElementType, e)
			if err != nil {
				return tftypes.Value{}, err
			}
			vals[k] = val
		}
		return tftypes.NewValue(typ, vals), nil
	case typ.Is(tftypes.Number):
		switch n := v.(type) {
		case int64:
			return tftypes.NewValue(typ, new(big.Float).SetInt64(n)), nil
		case float64:
			return tftypes.NewValue(typ, big.NewFloat(n)), nil
		}
	case typ.Is(tftypes.String), typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, v), nil
	}
	return tftypes.Value{}, fmt.Errorf("no Terraform value of %s for %T", typ, v)
}
