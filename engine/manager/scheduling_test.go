package manager_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// 10 replicas with a zone spread (maxSkew 1) on 6 nodes in 3 zones land 4/3/3.
func TestZoneSpread(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 6, zones...)
	c.WaitSchedulerSees(t, 6)
	create(t, c, deployment("web", 10, func(d *api.Deployment) {
		d.Spec.Template.Spec.TopologySpreadConstraints = []api.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: api.LabelZone, WhenUnsatisfiable: api.DoNotSchedule,
			LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}}
	}))
	var byZone map[string]int
	cluster.Eventually(t, 20*time.Second, "10 pods bound", func() (bool, string) {
		var bound []*api.Pod
		_, byZone, bound, _ = placement(t, c, "app=web")
		return len(bound) == 10, spread(byZone)
	})
	lo, hi := 10, 0
	for _, z := range zones {
		lo, hi = min(lo, byZone[z]), max(hi, byZone[z])
	}
	if hi-lo > 1 {
		t.Fatalf("zones %s: skew %d, want <= 1 (4/3/3)", spread(byZone), hi-lo)
	}
}

// Required anti-affinity by hostname: never two on a node; the excess waits
// with the anti-affinity reason.
func TestRequiredAntiAffinity(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 6, zones...)
	create(t, c, deployment("db", 8, func(d *api.Deployment) {
		d.Spec.Template.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{{
				TopologyKey:   api.LabelHostname,
				LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			}},
		}}
	}))
	cluster.Eventually(t, 20*time.Second, "6 bound, 2 pending with the anti-affinity reason", func() (bool, string) {
		byNode, _, bound, pending := placement(t, c, "app=db")
		for node, n := range byNode {
			if n > 1 {
				t.Fatalf("%d pods on %s", n, node)
			}
		}
		if len(bound) != 6 || len(pending) != 2 {
			return false, fmt.Sprintf("bound %d pending %d", len(bound), len(pending))
		}
		for _, p := range pending {
			if cond := scheduledCondition(p); !strings.Contains(cond, "0/6 nodes available: 6 node(s) didn't match pod anti-affinity rules") ||
				!strings.HasPrefix(cond, "False/Unschedulable") {
				return false, cond
			}
		}
		return true, ""
	})
}

// A pod bigger than every node waits with the counted reason, and is bound
// within a second of a large enough node joining.
func TestPendingUntilABigEnoughNodeJoins(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 6, zones...)
	big := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "big", Namespace: "default"}, Spec: api.PodSpec{
		Containers: []api.Container{{Name: "app", Image: "demo:1", Resources: api.ResourceRequirements{
			Requests: api.ResourceList{api.ResourceMemory: resource.MustParse("64Gi")}}}}}}
	if _, err := c.Client.Pods("default").Create(c.Ctx, big); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 10*time.Second, "pending with the counted reason", func() (bool, string) {
		p, err := c.Client.Pods("default").Get(c.Ctx, "big")
		if err != nil {
			return false, err.Error()
		}
		cond := scheduledCondition(p)
		return p.Spec.NodeName == "" && cond == "False/Unschedulable: 0/6 nodes available: 6 insufficient memory", cond
	})
	c.AddNode(t, simnode.NodeSpec{Name: "huge", Zone: "zone-a", Memory: resource.MustParse("128Gi")})
	took := cluster.Eventually(t, 5*time.Second, "bound to the new node", func() (bool, string) {
		p, err := c.Client.Pods("default").Get(c.Ctx, "big")
		if err != nil {
			return false, err.Error()
		}
		return p.Spec.NodeName == "huge", p.Spec.NodeName
	})
	t.Logf("bound %s after the node joined", took.Round(time.Millisecond))
	if took > time.Second {
		t.Fatalf("bound %s after the node joined, want within 1s", took)
	}
}
