//go:build !windows

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// BenchmarkPlanNoop is `maestro plan` of 100 deployments and 100 services
// that are all applied already (nothing to do). Target: <= 500 ms/op.
func BenchmarkPlanNoop(b *testing.B) {
	env := testenv.Start(b)
	cfg := filepath.Join(b.TempDir(), "config")
	if err := client.WriteConfig(cfg, env.Config); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "bench")
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	var m strings.Builder
	m.WriteString("namespace \"bench\" {\n  metadata {\n    name = \"bench\"\n  }\n}\n")
	for i := range 100 {
		fmt.Fprintf(&m, `
deployment "app%[1]d" {
  metadata {
    name      = "app%[1]d"
    namespace = namespace.bench.metadata.name
    labels    = { app = "app%[1]d" }
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "app%[1]d" }
    }
    template {
      labels = { app = "app%[1]d" }
      container {
        name  = "app"
        image = "demo:1"
        port {
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "100m"
            memory = "64Mi"
          }
        }
      }
    }
  }
}

service "app%[1]d" {
  metadata {
    name      = "app%[1]d"
    namespace = namespace.bench.metadata.name
  }
  spec {
    selector = deployment.app%[1]d.spec.template.labels
    port {
      port        = 80
      target_port = "8080"
    }
  }
}
`, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.hcl"), []byte(m.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	// No controllers run here: nothing rolls out, so apply does not wait.
	if out, _, err := runTB(b, cfg, "apply", dir, "-wait=false"); err != nil {
		b.Fatalf("apply: %v\n%s", err, out)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for range b.N {
		if out, _, err := runTB(b, cfg, "plan", dir); err != nil {
			b.Fatalf("no-op plan: %v\n%s", err, out)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
	// The process's CPU time, server included (it runs in-process): the
	// figure that does not depend on what else the machine runs.
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// runTB is run for benchmarks too.
func runTB(tb testing.TB, configPath string, args ...string) (string, string, error) {
	tb.Helper()
	root := NewRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"--config", configPath}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
