package provider

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/maestro-dev/maestro/engine/api"
)

// TestAccDeploymentResource_updateUnderStatusWrites: updates of a
// deployment whose status is written all the time (as its controller and
// its pods' agents do) go through: an update that conflicts with a status
// write made since it read the object reads it again and writes again,
// rather than failing the apply with "the object has been modified".
func TestAccDeploymentResource_updateUnderStatusWrites(t *testing.T) {
	c, provider := accCluster(t, 0)
	deployments := c.Client.Deployments("default")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	writes := 0
	// A status writer far busier than any controller (50 writes a
	// second): without the retry, some of the updates below conflict.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	wg.Go(func() {
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			d, err := deployments.Get(ctx, "busy")
			if err != nil {
				continue
			}
			d.Status.ObservedGeneration = d.Generation
			d.Status.Replicas++
			if _, err := deployments.UpdateStatus(ctx, d); err == nil {
				writes++
			}
		}
	})
	config := func(replicas int) string {
		return provider + fmt.Sprintf(`
resource "maestro_deployment" "busy" {
  wait_for_rollout = false
  metadata {
    name      = "busy"
    namespace = "default"
  }
  spec {
    replicas = %d
    selector {
      match_labels = { app = "busy" }
    }
    template {
      labels = { app = "busy" }
      container {
        name  = "busy"
        image = "demo:v1"
      }
    }
  }
}
`, replicas)
	}
	var steps []resource.TestStep
	for replicas := 1; replicas <= 10; replicas++ {
		steps = append(steps, resource.TestStep{
			Config: config(replicas),
			Check:  resource.TestCheckResourceAttr("maestro_deployment.busy", "spec.replicas", fmt.Sprint(replicas)),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	cancel()
	wg.Wait()
	if writes < 50 {
		t.Errorf("only %d status writes during the updates: the test did not test them", writes)
	}
	if _, err := deployments.Get(context.Background(), "busy"); !api.IsNotFound(err) {
		t.Errorf("deployment left after the test: %v", err)
	}
}
