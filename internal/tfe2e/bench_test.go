package tfe2e_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
)

// benchObjects is how many deployments (and services) BenchmarkApply100
// manages.
const benchObjects = 100

// benchConfig is benchObjects deployments of one small demo pod, each
// behind its own service.
const benchConfig = providerBlock + `
resource "maestro_namespace" "bench" {
  metadata {
    name = "bench"
  }
}

resource "maestro_deployment" "app" {
  count = {{n}}
  metadata {
    name      = format("app-%03d", count.index)
    namespace = maestro_namespace.bench.metadata.name
  }
  spec {
    replicas = 1
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
        resources {
          requests {
            cpu    = "5m"
            memory = "8Mi"
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

// BenchmarkApply100 times terraform (default -parallelism=10) on 100
// deployments and 100 services on a three-node local cluster: apply from
// empty, a no-op plan, destroy. Run it with -benchtime 1x. Beside the
// wall times (apply-s, plan-s, destroy-s) it reports where apply's time
// goes: the mean time terraform waited for one deployment to be created
// (deploy-create-s, mostly the rollout wait) and deleted
// (deploy-delete-s), for the namespace to be deleted (ns-delete-s, it
// goes last), and the rate the pods' containers started at (starts/s,
// first to last start).
func BenchmarkApply100(b *testing.B) {
	c := startLocalCluster(b, 3)
	w := newWorkspace(b, map[string]string{"main.tf": hcl(benchConfig, "{{n}}", strconv.Itoa(benchObjects))})
	w.setVar("config_path", c.ConfigPath)
	ctx := context.Background()
	var apply, plan, destroy, create, deleteDeploy, deleteNS, startRate float64
	b.ResetTimer()
	for range b.N {
		r := w.mustApply()
		apply += r.took.Seconds()
		create += meanTook(b, r, "maestro_deployment", "Creation")
		startRate += containerStartRate(b, c.Client, "bench")

		r = w.wantPlan(0)
		plan += r.took.Seconds()

		r = w.mustDestroy()
		destroy += r.took.Seconds()
		deleteDeploy += meanTook(b, r, "maestro_deployment", "Destruction")
		deleteNS += meanTook(b, r, "maestro_namespace", "Destruction")

		b.StopTimer()
		eventually(b, 2*time.Minute, "the bench namespace emptied", func() (bool, string) {
			left, err := namespaceObjects(ctx, c.Client, "bench")
			if err != nil {
				return false, err.Error()
			}
			return len(left) == 0, fmt.Sprintf("%d objects left", len(left))
		})
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(apply/n, "apply-s")
	b.ReportMetric(plan/n, "plan-s")
	b.ReportMetric(destroy/n, "destroy-s")
	b.ReportMetric(create/n, "deploy-create-s")
	b.ReportMetric(deleteDeploy/n, "deploy-delete-s")
	b.ReportMetric(deleteNS/n, "ns-delete-s")
	b.ReportMetric(startRate/n, "starts/s")
	b.ReportMetric(0, "ns/op") // the wall times above say it better
}

// completeRE is terraform's line for a resource created or destroyed.
var completeRE = regexp.MustCompile(`(?m)^(\S+?)(\[\d+\])?: (Creation|Destruction) complete after (\S+)`)

// meanTook is the mean time terraform reported creating or destroying
// (verb "Creation" or "Destruction") the resources of a type took.
func meanTook(b *testing.B, r tfResult, resourceType, verb string) float64 {
	b.Helper()
	var sum time.Duration
	n := 0
	for _, m := range completeRE.FindAllStringSubmatch(r.stdout, -1) {
		if m[3] != verb || !strings.HasPrefix(m[1], resourceType+".") {
			continue
		}
		d, err := time.ParseDuration(m[4])
		if err != nil {
			b.Fatalf("%s time %q: %v", verb, m[4], err)
		}
		sum += d
		n++
	}
	if n == 0 {
		b.Fatalf("no %s %s in the output\n%s", resourceType, verb, r)
	}
	return sum.Seconds() / float64(n)
}

// containerStartRate is how many containers per second the namespace's
// pods started at, from the first start to the last.
func containerStartRate(b *testing.B, c *client.Client, ns string) float64 {
	b.Helper()
	pods, _, err := c.Pods(ns).List(context.Background(), client.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var starts []time.Time
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if r := cs.State.Running; r != nil && !r.StartedAt.IsZero() {
				starts = append(starts, r.StartedAt)
			}
		}
	}
	if len(starts) < 2 {
		return 0
	}
	slices.SortFunc(starts, time.Time.Compare)
	span := starts[len(starts)-1].Sub(starts[0]).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(len(starts)-1) / span
}
