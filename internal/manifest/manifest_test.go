package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// write puts files into a new directory and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const app = `
variable "replicas" {
  type    = number
  default = 2
}
variable "tag" {
  default = "1.0"
}
locals {
  ns     = "shop"
  labels = { app = "web" }
  image  = "demo:${var.tag}"
}
namespace "shop" {
  metadata {
    name = local.ns
  }
}
deployment "web" {
  metadata {
    name      = "web"
    namespace = namespace.shop.metadata.name
    labels    = local.labels
  }
  spec {
    replicas = var.replicas
    selector {
      match_labels = local.labels
    }
    template {
      labels = local.labels
      container {
        name  = "web"
        image = local.image
        resources {
          requests {
            cpu = "500m"
          }
        }
      }
    }
  }
}
service "web" {
  metadata {
    name      = deployment.web.metadata.name
    namespace = namespace.shop.metadata.name
  }
  spec {
    selector = deployment.web.spec.template.labels
    port {
      port = 80
    }
  }
}
`

func deployment(t *testing.T, s *Set) *api.Deployment {
	t.Helper()
	for _, r := range s.Resources {
		if r.Address == "deployment.web" {
			return r.Object.(*api.Deployment)
		}
	}
	t.Fatalf("no deployment.web in %v", s.Resources)
	return nil
}

func TestLoadVariablesLocalsReferences(t *testing.T) {
	dir := write(t, map[string]string{"app.hcl": app})
	tests := []struct {
		name         string
		vars         map[string]string
		env          map[string]string
		wantReplicas int32
		wantImage    string
	}{
		{name: "defaults", wantReplicas: 2, wantImage: "demo:1.0"},
		{name: "-var wins", vars: map[string]string{"replicas": "5", "tag": "2.0"}, env: map[string]string{"MAESTRO_VAR_replicas": "4"}, wantReplicas: 5, wantImage: "demo:2.0"},
		{name: "environment", env: map[string]string{"MAESTRO_VAR_replicas": "4", "MAESTRO_VAR_tag": "3"}, wantReplicas: 4, wantImage: "demo:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			s, err := Load(context.Background(), dir, tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			var addrs []string
			for _, r := range s.Resources {
				addrs = append(addrs, r.Address)
			}
			if got := strings.Join(addrs, " "); got != "deployment.web namespace.shop service.web" {
				t.Fatalf("addresses %q", got)
			}
			d := deployment(t, s)
			if *d.Spec.Replicas != tt.wantReplicas || d.Spec.Template.Spec.Containers[0].Image != tt.wantImage {
				t.Errorf("replicas %d image %q, want %d %q", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image, tt.wantReplicas, tt.wantImage)
			}
			if d.Namespace != "shop" || d.Labels["app"] != "web" || d.Spec.Selector.MatchLabels["app"] != "web" {
				t.Errorf("references and locals not resolved: %+v", d.ObjectMeta)
			}
			if q := d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceCPU]; q.MilliValue() != 500 {
				t.Errorf("cpu %v, want 500m", q.String())
			}
			svc := s.Resources[2].Object.(*api.Service)
			if svc.Name != "web" || svc.Spec.Selector["app"] != "web" {
				t.Errorf("service from references: %+v %v", svc.ObjectMeta, svc.Spec.Selector)
			}
			if s.Resources[0].Kind != "Deployment" || s.Resources[0].Namespace != "shop" || s.Resources[0].Name != "web" {
				t.Errorf("resource identity %+v", s.Resources[0])
			}
		})
	}
}

// TestLoadErrors: each mistake is reported at its file and line, naming
// the attribute or reference.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		vars  map[string]string
		want  []string
	}{
		{
			name: "unknown attribute",
			files: map[string]string{"a.hcl": `namespace "a" {
  metadata {
    name   = "a"
    lables = {}
  }
}`},
			want: []string{"a.hcl:4", `"lables"`},
		},
		{
			name: "bad quantity names the attribute path",
			files: map[string]string{"web.hcl": `
deployment "web" {
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
      container {
        name  = "web"
        image = "demo"
        resources {
          requests {
            cpu = "lots"
          }
        }
      }
    }
  }
}`},
			want: []string{"web.hcl:18", "deployment.web", "spec.template.container[0].resources.requests.cpu", `"lots" is not a quantity`},
		},
		{
			name: "wrong type",
			files: map[string]string{"a.hcl": `config_map "c" {
  metadata {
    namespace = "default"
    name      = "c"
  }
  data = "not a map"
}`},
			want: []string{"a.hcl:6", "data"},
		},
		{
			name: "cycle",
			files: map[string]string{"a.hcl": `config_map "a" {
  metadata {
    namespace = "default"
    name      = config_map.b.metadata.name
  }
}
config_map "b" {
  metadata {
    namespace = "default"
    name      = config_map.a.metadata.name
  }
}`},
			want: []string{"a.hcl:", "Reference cycle", "config_map.a -> config_map.b -> config_map.a"},
		},
		{
			name: "local cycle",
			files: map[string]string{"a.hcl": `locals {
  a = local.b
  b = local.a
}`},
			want: []string{"a.hcl:", "local.a -> local.b -> local.a"},
		},
		{
			name:  "unknown reference",
			files: map[string]string{"a.hcl": "namespace \"a\" {\n  name = deployment.nope.metadata.name\n}"},
			want:  []string{"a.hcl:2", `deployment.nope: no deployment "nope"`},
		},
		{
			name:  "undeclared variable",
			files: map[string]string{"a.hcl": "namespace \"a\" {\n  name = var.nope\n}"},
			want:  []string{"a.hcl:2", "var.nope"},
		},
		{
			name:  "missing variable value",
			files: map[string]string{"a.hcl": "variable \"x\" {\n  type = string\n}\nnamespace \"a\" {\n  name = var.x\n}"},
			want:  []string{"a.hcl:1", "-var x=VALUE", "MAESTRO_VAR_x"},
		},
		{
			name:  "bad variable value",
			files: map[string]string{"a.hcl": "variable \"n\" {\n  type = number\n}\nnamespace \"a\" {\n  name = \"a${var.n}\"\n}"},
			vars:  map[string]string{"n": "many"},
			want:  []string{"-var n"},
		},
		{
			name:  "duplicate",
			files: map[string]string{"a.hcl": "namespace \"a\" {\n  name = \"a\"\n}\n", "b.hcl": "namespace \"a\" {\n  name = \"b\"\n}\n"},
			want:  []string{"b.hcl:1", "Duplicate namespace.a", "a.hcl:1"},
		},
		{
			name:  "terraform syntax",
			files: map[string]string{"a.hcl": "resource \"maestro_namespace\" \"a\" {\n  name = \"a\"\n}\n"},
			want:  []string{"a.hcl:1", "resource", `without the resource keyword`},
		},
		{
			name: "missing block",
			files: map[string]string{"a.hcl": `service "s" {
  metadata {
    name      = "s"
    namespace = "default"
  }
}`},
			want: []string{"a.hcl:1", "service.s", "spec"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), write(t, tt.files), tt.vars)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestWhere(t *testing.T) {
	s, err := Load(context.Background(), write(t, map[string]string{"app.hcl": app}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"spec.template.container[0].image": "app.hcl:34",
		"spec.selector.match_labels":       "app.hcl:28",
		"spec.template.container[0].args":  "app.hcl:32", // not written: its block
		"":                                 "app.hcl:19",
	} {
		if got := s.Where("deployment.web", path); !strings.HasSuffix(got, want) {
			t.Errorf("Where(%q) = %q, want ...%s", path, got, want)
		}
	}
}

// TestLoadTypedVariablesAndFunctions: a -var of a non-string type is an
// HCL value, and manifests call Terraform's functions.
func TestLoadTypedVariablesAndFunctions(t *testing.T) {
	dir := write(t, map[string]string{"a.hcl": `
variable "zones" {
  type    = list(string)
  default = ["a"]
}
variable "extra" {
  type    = map(string)
  default = {}
}
namespace "n" {
  metadata {
    name   = lower("Team-${length(var.zones)}")
    labels = merge({ zones = join("-", var.zones) }, var.extra)
  }
}
`})
	s, err := Load(context.Background(), dir, map[string]string{"zones": `["b", "c"]`, "extra": `{ tier = "web" }`})
	if err != nil {
		t.Fatal(err)
	}
	ns := s.Resources[0].Object.(*api.Namespace)
	if ns.Name != "team-2" || ns.Labels["zones"] != "b-c" || ns.Labels["tier"] != "web" {
		t.Errorf("namespace %q labels %v, want team-2 with zones=b-c tier=web", ns.Name, ns.Labels)
	}
}

// TestWithDeps: a target brings along what it refers to (directly or
// through a local) and the namespace it lives in when the manifests
// declare it, never more.
func TestWithDeps(t *testing.T) {
	extra := `
locals {
  settings = config_map.settings.metadata.name
}
config_map "settings" {
  metadata {
    name      = "settings"
    namespace = "shop"
  }
  data = { color = "blue" }
}
config_map "other" {
  metadata {
    name      = "other"
    namespace = "default"
  }
}
pod "probe" {
  metadata {
    name      = "probe"
    namespace = "shop"
    labels    = { uses = local.settings }
  }
  spec {
    container {
      name  = "probe"
      image = "demo:1"
    }
  }
}
`
	s, err := Load(context.Background(), write(t, map[string]string{"app.hcl": app, "extra.hcl": extra}), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		targets []string
		want    string
	}{
		{[]string{"service.web"}, "deployment.web namespace.shop service.web"},
		{[]string{"deployment.web"}, "deployment.web namespace.shop"},
		// config_map.settings names its namespace with a literal: the
		// declared namespace comes along all the same.
		{[]string{"pod.probe"}, "config_map.settings namespace.shop pod.probe"},
		{[]string{"config_map.other"}, "config_map.other"},
		{[]string{"namespace.shop"}, "namespace.shop"},
		// An address no manifest declares (an object to delete) stays.
		{[]string{"deployment.gone", "config_map.other"}, "config_map.other deployment.gone"},
	}
	for _, tt := range tests {
		if got := strings.Join(s.WithDeps(tt.targets), " "); got != tt.want {
			t.Errorf("WithDeps(%v) = %q, want %q", tt.targets, got, tt.want)
		}
	}
}
