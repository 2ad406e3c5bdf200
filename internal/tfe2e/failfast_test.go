package tfe2e_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

// impossibleConfig is 4 replicas that each need a node of their own
// (required anti-affinity on the hostname label) for a 3-node cluster,
// with the default timeouts (a 10-minute create).
const impossibleConfig = providerBlock + `
resource "maestro_deployment" "spread" {
  metadata {
    name      = "spread"
    namespace = "default"
  }
  spec {
    replicas = 4
    selector {
      match_labels = { app = "spread" }
    }
    template {
      labels = { app = "spread" }
      container {
        name  = "web"
        image = "maestro-demo:v1"
      }
      affinity {
        pod_anti_affinity {
          required {
            topology_key = "{{topology_key}}"
            label_selector {
              match_labels = { app = "spread" }
            }
          }
        }
      }
    }
  }
}
`

// TestImpossibleRolloutFailsFast applies a deployment that can never roll
// out on this cluster: the apply must fail as soon as the fourth pod has
// been unschedulable for the wait's unschedulable_timeout (30 s), with the
// scheduler's reason and advice that fits it, not after the 10-minute
// create timeout. The bound is under 60 s; the time is logged.
func TestImpossibleRolloutFailsFast(t *testing.T) {
	t.Parallel()
	c := startLocalCluster(t, 3)
	key := hostnameKey(t, c.Client)
	w := newWorkspace(t, map[string]string{"main.tf": hcl(impossibleConfig, "{{topology_key}}", key)})
	w.setVar("config_path", c.ConfigPath)

	r := w.apply()
	if r.code == 0 {
		t.Fatalf("apply of 4 anti-affine replicas on 3 nodes succeeded\n%s", r)
	}
	wantOutput(t, r,
		`Deployment default/spread did not roll out`,
		`deployment default/spread cannot roll out: pod spread-\S+: unschedulable for \S+ with no node pool adding room`,
		// The scheduler's counted reason, verbatim.
		`0/3 nodes available: 3 node\(s\) didn't match pod anti-affinity rules`,
		`relax the anti-affinity`,
	)
	// The error (stderr; the plan's placement warning is on stdout).
	errText := flatten(r.stderr)
	for _, wrong := range []string{"requests", "not complete after"} {
		if strings.Contains(errText, wrong) {
			t.Errorf("the error says %q: advice or a timeout that do not fit an anti-affinity rule\n%s", wrong, r)
		}
	}
	t.Logf("apply failed after %.1f s (the issue asks for under 60 s; the create timeout is 10 min), topology key %s:\n%s",
		r.took.Seconds(), key, r.stderr)

	// The scheduler said so as an event too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, _, err := c.Client.Events("default").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		found = found || ev.Reason == scheduler.EventFailedScheduling && ev.Type == api.EventWarning &&
			strings.HasPrefix(ev.InvolvedObject.Name, "spread-") &&
			strings.Contains(ev.Message, "didn't match pod anti-affinity rules")
	}
	if !found {
		t.Errorf("no FailedScheduling event about a spread pod among %d events", len(evs))
	}
}

// hostnameKey is the node label that names each node on its own:
// Kubernetes' kubernetes.io/hostname when every node carries it, else
// maestro's own (api.LabelHostname).
func hostnameKey(t *testing.T, c *client.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodes, _, err := c.Nodes().List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const k8s = api.LabelKubernetesHostname
	for _, n := range nodes {
		if n.Labels[k8s] == "" {
			return api.LabelHostname
		}
	}
	if len(nodes) == 0 {
		return api.LabelHostname
	}
	return k8s
}

// unpullableConfig is a deployment whose image's registry refuses every
// connection (a loopback port nothing listens on).
const unpullableConfig = providerBlock + `
resource "maestro_deployment" "typo" {
  metadata {
    name      = "typo"
    namespace = "default"
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "typo" }
    }
    template {
      labels = { app = "typo" }
      container {
        name  = "web"
        image = "` + unpullableImage + `"
      }
    }
  }
}
`

const unpullableImage = "127.0.0.1:1/maestro-no-such-image:v1"

// TestUnpullableImageFailsFast applies a deployment whose image cannot be
// pulled (a typo in a registry's address): the apply fails once the real
// agent's pulls have failed three times (its back-off is 1 s here, 10 s by
// default), with the registry's answer, not after the 10-minute create
// timeout.
func TestUnpullableImageFailsFast(t *testing.T) {
	t.Parallel()
	c := startLocalCluster(t, 1)
	w := newWorkspace(t, map[string]string{"main.tf": unpullableConfig})
	w.setVar("config_path", c.ConfigPath)
	r := w.apply()
	if r.code == 0 {
		t.Fatalf("apply of an image that cannot be pulled succeeded\n%s", r)
	}
	wantOutput(t, r,
		`deployment default/typo cannot roll out: pod typo-\S+, container web: image "`+regexp.QuoteMeta(unpullableImage)+`" failed to pull 3 times`,
		// Docker's own answer.
		`connection refused`,
		`Check the image's name and tag`,
	)
	if strings.Contains(flatten(r.stderr), "not complete after") {
		t.Errorf("the apply waited for its timeout\n%s", r)
	}
	t.Logf("apply failed after %.1f s (the create timeout is 10 min):\n%s", r.took.Seconds(), r.stderr)
}
