package tfe2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
	simcluster "github.com/maestro-dev/maestro/internal/testenv/cluster"
	"github.com/maestro-dev/maestro/provider"
)

// noopObjects is how many deployments (and services) BenchmarkPlanNoop
// plans.
const noopObjects = 100

// noopConfig is noopObjects deployments, each behind its own service, in
// a namespace; the apply does not wait for the rollouts (the benchmark
// waits for them itself: see startRolledOut).
const noopConfig = providerBlock + `
resource "maestro_namespace" "bench" {
  metadata {
    name = "bench"
  }
}

resource "maestro_deployment" "app" {
  count            = {{n}}
  wait_for_rollout = false
  metadata {
    name      = format("app-%03d", count.index)
    namespace = maestro_namespace.bench.metadata.name
    labels    = { tier = "web" }
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = format("app-%03d", count.index) }
    }
    template {
      labels = { app = format("app-%03d", count.index) }
      container {
        name  = "app"
        image = "maestro-demo:v1"
        port {
          name           = "http"
          container_port = 8080
        }
        env {
          name  = "INDEX"
          value = tostring(count.index)
        }
        resources {
          requests {
            cpu    = "5m"
            memory = "8Mi"
          }
          limits {
            memory = "64Mi"
          }
        }
        readiness_probe {
          http_get {
            path = "/healthz"
            port = "http"
          }
        }
      }
    }
  }
}

resource "maestro_service" "app" {
  count = {{n}}
  metadata {
    name      = format("app-%03d", count.index)
    namespace = maestro_namespace.bench.metadata.name
  }
  spec {
    selector = { app = format("app-%03d", count.index) }
    port {
      port        = 80
      target_port = "http"
    }
  }
}
`

// floorConfig is Terraform's own floor for a plan of that many resources:
// as many terraform_data resources, which no plugin serves.
const floorConfig = `
resource "terraform_data" "x" {
  count = {{n}}
  input = { name = format("app-%03d", count.index), replicas = 2 }
}
`

// BenchmarkPlanNoop times a no-op `terraform plan` (refresh included, as
// users run it) of 100 deployments and 100 services on an in-process
// cluster whose controllers have rolled them out on simulated nodes since
// the apply (as in a live cluster, every deployment was written since its
// state was: status, revision annotation), and in the same run
// Terraform's floor: a no-op plan of
// 200 terraform_data resources. It reports both in seconds per plan and
// their ratio (x-floor), which compares across machines. Run it with
//
//	nice go test ./internal/tfe2e -run '^$' -bench BenchmarkPlanNoop -benchtime 5x
func BenchmarkPlanNoop(b *testing.B) {
	w := newWorkspace(b, map[string]string{"main.tf": hcl(noopConfig, "{{n}}", strconv.Itoa(noopObjects))})
	startRolledOut(b, w)
	w.wantPlan(0) // warm: the provider binary and terraform's caches

	floor := newWorkspace(b, map[string]string{"main.tf": hcl(floorConfig, "{{n}}", strconv.Itoa(2*noopObjects))})
	floor.mustApply()
	floor.wantPlan(0)

	var plan, base, planCPU, baseCPU float64
	b.ResetTimer()
	for range b.N {
		r := noopPlan(b, w)
		plan, planCPU = plan+r.took.Seconds(), planCPU+r.cpu.Seconds()
		f := floor.wantPlan(0)
		base, baseCPU = base+f.took.Seconds(), baseCPU+f.cpu.Seconds()
	}
	n64 := float64(b.N)
	b.ReportMetric(plan/n64, "plan-s")
	b.ReportMetric(base/n64, "floor-s")
	b.ReportMetric(plan/base, "x-floor")
	// CPU of terraform and the provider together: on this 2-core machine
	// the wall time hides how much work runs in parallel.
	b.ReportMetric(planCPU/n64, "plan-cpu-s")
	b.ReportMetric(baseCPU/n64, "floor-cpu-s")
	b.ReportMetric(0, "ns/op") // the wall times above say it better
}

// BenchmarkPlanNoopInProcess is BenchmarkPlanNoop's plan with the provider
// served from the test process (TF_REATTACH_PROVIDERS), to profile the
// provider during the timed plans only (the in-process control plane
// shows too, apart; go test's -cpuprofile would include the set-up
// apply):
//
//	MAESTRO_BENCH_CPUPROFILE=$PWD/cpu.out nice go test ./internal/tfe2e -run '^$' -bench BenchmarkPlanNoopInProcess -benchtime 3x
//	go tool pprof -top -cum cpu.out
//
// It sets what main.go sets for the provider binary: the SDK's logging
// off and GOGC 400.
func BenchmarkPlanNoopInProcess(b *testing.B) {
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		b.Setenv(name, "OFF")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	w := newWorkspace(b, map[string]string{"main.tf": hcl(noopConfig, "{{n}}", strconv.Itoa(noopObjects))})
	w.env = append(w.env, "TF_REATTACH_PROVIDERS="+testenv.ServeProvider(b, providerAddress, provider.Server("bench")))
	startRolledOut(b, w)
	w.wantPlan(0)
	stop := startCPUProfile(b, os.Getenv("MAESTRO_BENCH_CPUPROFILE"))
	var plan, terraformCPU float64
	b.ResetTimer()
	for range b.N {
		r := noopPlan(b, w)
		plan, terraformCPU = plan+r.took.Seconds(), terraformCPU+r.cpu.Seconds()
	}
	stop()
	b.ReportMetric(plan/float64(b.N), "plan-s")
	// terraform's own CPU (the provider runs in this process).
	b.ReportMetric(terraformCPU/float64(b.N), "terraform-cpu-s")
	b.ReportMetric(0, "ns/op")
}

// startRolledOut starts a cluster with controllers and simulated nodes,
// applies w's configuration to it and waits until the controllers have
// rolled out every deployment: each has been written since the apply
// (revision annotation, status), as deployments in a live cluster are.
func startRolledOut(b *testing.B, w *workspace) {
	b.Helper()
	c := simcluster.Start(b)
	c.AddNodes(b, "sim-", 4)
	path := filepath.Join(b.TempDir(), "config")
	if err := client.WriteConfig(path, c.Config); err != nil {
		b.Fatal(err)
	}
	w.setVar("config_path", path)
	w.mustApply()
	simcluster.Eventually(b, 2*time.Minute, "every deployment rolled out", func() (bool, string) {
		ds, _, err := c.Client.Deployments("bench").List(c.Ctx, client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		done := 0
		for _, d := range ds {
			if d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == 2 && d.Annotations[api.AnnotationRevision] != "" {
				done++
			}
		}
		return done == noopObjects, fmt.Sprintf("%d of %d", done, noopObjects)
	})
}

// noopPlan runs a plan in w and fails unless it found nothing to do.
func noopPlan(b *testing.B, w *workspace) tfResult {
	b.Helper()
	r := w.wantPlan(0)
	if !strings.Contains(r.stdout, "No changes.") {
		b.Fatalf("not a no-op plan\n%s", r)
	}
	return r
}

// startCPUProfile writes a CPU profile of this process to file (none when
// file is empty) until the returned stop is called.
func startCPUProfile(b *testing.B, file string) (stop func()) {
	b.Helper()
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}
