package provider

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/internal/testenv"
)

const providerAddress = Address

// terraformCLI serves the provider in-process and returns a runner of the
// real terraform binary against it (TF_REATTACH_PROVIDERS) in a directory
// holding config, for what plugin-testing does not show: warnings and the
// text of plan output. accEnv must have run.
func terraformCLI(t *testing.T, config string) func(args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	env := testenv.ServeProvider(t, providerAddress, Server("test"))
	dir := t.TempDir()
	full := `terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}
` + config
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, os.Getenv("TF_ACC_TERRAFORM_PATH"), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+env, "NO_COLOR=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("init", "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	return run
}

// A plan of a deployment whose pods cannot all be placed warns, with the
// scheduler's reason, before anything is applied; one that fits does not.
func TestPlanWarnsWhenPodsCannotBePlaced(t *testing.T) {
	_, provider := accCluster(t, 2)
	config := func(name string, replicas int, cpu string) string {
		return strings.NewReplacer("NAME", name, "REPLICAS", strconv.Itoa(replicas), "CPU", cpu).Replace(`
resource "maestro_deployment" "NAME" {
  metadata {
    name      = "NAME"
    namespace = "default"
  }
  spec {
    replicas = REPLICAS
    selector {
      match_labels = { app = "NAME" }
    }
    template {
      labels = { app = "NAME" }
      container {
        name  = "main"
        image = "demo:v1"
        resources {
          requests { cpu = "CPU" }
        }
      }
    }
  }
}
`)
	}
	tf := terraformCLI(t, provider+config("big", 3, "3")+config("small", 2, "100m"))
	out, err := tf("plan", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`(?s)Warning: Pods cannot all be placed.*with maestro_deployment\.big.*` +
		wrapped("On the cluster as it is now, 1 of the 3 pods of deployment default/big could not be placed: 0/2 nodes available: 2 insufficient cpu."))
	if !want.MatchString(out) {
		t.Fatalf("plan output lacks the placement warning for big:\n%s", out)
	}
	if strings.Contains(out, "maestro_deployment.small,") || strings.Count(out, "Warning: Pods cannot all be placed") != 1 {
		t.Fatalf("a warning for a deployment that fits:\n%s", out)
	}
}

// wrapped is a pattern for text terraform may have wrapped over lines.
func wrapped(text string) string {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return strings.Join(words, `\s+`)
}

// The placement warning is not silent when the namespace is created in
// the same plan: the preview takes the new namespace for an empty one.
func TestPlanWarnsWhenPodsCannotBePlacedInNewNamespace(t *testing.T) {
	_, provider := accCluster(t, 2)
	tf := terraformCLI(t, provider+`
resource "maestro_namespace" "fresh" {
  metadata {
    name = "fresh"
  }
}

resource "maestro_deployment" "big" {
  metadata {
    name      = "big"
    namespace = maestro_namespace.fresh.metadata.name
  }
  spec {
    replicas = 3
    selector {
      match_labels = { app = "big" }
    }
    template {
      labels = { app = "big" }
      container {
        name  = "main"
        image = "demo:v1"
        resources {
          requests { cpu = "3" }
        }
      }
    }
  }
}
`)
	out, err := tf("plan", "-input=false", "-no-color")
	if err != nil {
		t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`(?s)Warning: Pods cannot all be placed.*with maestro_deployment\.big.*` +
		wrapped("On the cluster as it is now, 1 of the 3 pods of deployment fresh/big could not be placed: 0/2 nodes available: 2 insufficient cpu."))
	if !want.MatchString(out) {
		t.Fatalf("plan output lacks the placement warning for a deployment in a new namespace:\n%s", out)
	}
}
