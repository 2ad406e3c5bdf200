package manager_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/internal/podcapacity"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestClusterAutoscaling: a local pool (real agents on Docker) with
// autoscaling, min 1, max 4. Three pods of 60% of a node's cpu each do not
// fit its one node: the pool adds nodes until all three run (reported:
// unschedulable -> Running per pod). With the pods gone, the pool shrinks
// back to 1 after the shortened unneeded time, each removed node drained.
// A pod asking for more cpu than any pool's node has fails a rollout wait
// at once with the reason, and the pool does not grow for it.
func TestClusterAutoscaling(t *testing.T) {
	const unneeded = 3 * time.Second
	lp := startLocalPoolsWith(t, nil, func(c *manager.Config) {
		c.ClusterAutoscaler = clusterautoscaler.Config{ScanInterval: 500 * time.Millisecond, ScaleDownUnneededTime: unneeded}
	})
	p := localPool("web", 1)
	p.Spec.MinSize, p.Spec.MaxSize, p.Spec.Autoscaling = 1, 4, true
	if _, err := lp.Client.NodePools().Create(lp.Ctx, p); err != nil {
		t.Fatal(err)
	}
	first := lp.waitReady(t, "web", 1, 90*time.Second)
	n, err := lp.Client.Nodes().Get(lp.Ctx, first[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	cpu := n.Status.Allocatable[api.ResourceCPU]
	if len(n.Status.Allocatable) == 0 {
		cpu = n.Status.Capacity[api.ResourceCPU]
	}
	request := resource.NewMilliQuantity(cpu.MilliValue()*6/10, resource.DecimalSI)

	times := watchPods(t, lp, "app=load")
	d := testenv.DemoDeployment(lp.demo, "load", 3, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: request}
	})
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, d); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 3*time.Minute, "3 load pods Running on 3 nodes", func() (bool, string) {
		nodes := map[string]bool{}
		for _, p := range lp.Pods(t, "default", "app=load") {
			if p.Status.Phase == api.PodRunning && p.DeletionTimestamp == nil {
				nodes[p.Spec.NodeName] = true
			}
		}
		return len(nodes) == 3, fmt.Sprint(nodes)
	})
	lp.waitReady(t, "web", 3, 90*time.Second)
	times.report(t)
	if evs := eventsOf(t, lp.Cluster, "NodePool", "web"); !slices.ContainsFunc(evs, func(e string) bool { return strings.HasPrefix(e, api.ReasonScaledUpGroup) }) {
		t.Errorf("pool events %q; want %s", evs, api.ReasonScaledUpGroup)
	}

	start := time.Now()
	cluster.Update(t, lp.Ctx, lp.Client.Deployments("default"), "load", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr[int32](0) })
	lp.waitReady(t, "web", 1, 3*time.Minute)
	t.Logf("scale-down: 3 -> 1 nodes %s after the load went (unneeded time %s)", time.Since(start).Round(time.Millisecond), unneeded)
	if got := lp.processes(t); len(got) != 1 {
		t.Errorf("agent processes %v, want 1", got)
	}

	start = time.Now()
	huge := testenv.DemoDeployment(lp.demo, "huge", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: resource.MustParse("512")}
	})
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, huge); err != nil {
		t.Fatal(err)
	}
	var never error
	cluster.Eventually(t, 30*time.Second, "the rollout wait fails for the huge pod", func() (bool, string) {
		r, err := podcapacity.ForDeployment(lp.Ctx, lp.Client, huge)
		never = r.Never
		return never != nil, fmt.Sprintf("%+v, %v", r, err)
	})
	t.Logf("pod too big for every pool reported %s after its deployment was created: %v", time.Since(start).Round(time.Millisecond), never)
	if !strings.Contains(never.Error(), "insufficient cpu") || !strings.Contains(never.Error(), "node pool web") {
		t.Errorf("reason %q; want it to name the pool and insufficient cpu", never)
	}
	if p, _ := lp.Client.NodePools().Get(lp.Ctx, "web"); *p.Spec.Size != 1 {
		t.Errorf("pool size %d, want 1 (no scale-up for a pod no node could hold)", *p.Spec.Size)
	}
}

// podTimes records, per pod, when it was first seen unschedulable and
// first seen Running.
type podTimes struct {
	stop             func()
	mu               sync.Mutex
	pending, running map[string]time.Time
}

func watchPods(t *testing.T, lp *localPools, selector string) *podTimes {
	pt := &podTimes{pending: map[string]time.Time{}, running: map[string]time.Time{}}
	var once sync.Once
	stop := cluster.Every(50*time.Millisecond, func() {
		pods, _, err := lp.Client.Pods("default").List(lp.Ctx, client.ListOptions{LabelSelector: selector})
		if err != nil {
			return
		}
		now := time.Now()
		pt.mu.Lock()
		defer pt.mu.Unlock()
		for _, p := range pods {
			if _, ok := pt.pending[p.Name]; !ok && podcapacity.Pending(p) {
				pt.pending[p.Name] = now
			}
			if _, ok := pt.running[p.Name]; !ok && p.Status.Phase == api.PodRunning {
				pt.running[p.Name] = now
			}
		}
	})
	pt.stop = func() { once.Do(stop) }
	t.Cleanup(pt.stop)
	return pt
}

// report logs unschedulable -> Running for each pod that was unschedulable.
func (pt *podTimes) report(t *testing.T) {
	pt.stop()
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var worst time.Duration
	for name, from := range pt.pending {
		to, ok := pt.running[name]
		if !ok {
			continue
		}
		d := to.Sub(from)
		worst = max(worst, d)
		t.Logf("pod %s: unschedulable -> Running in %s", name, d.Round(time.Millisecond))
	}
	t.Logf("unschedulable -> Running: %d pod(s), slowest %s (target <= 5 s for a local pool)", len(pt.pending), worst.Round(time.Millisecond))
}

func eventsOf(t *testing.T, c *cluster.Cluster, kind, name string) []string {
	t.Helper()
	evs, _, err := c.Client.Events("").List(c.Ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.InvolvedObject.Kind == kind && ev.InvolvedObject.Name == name {
			out = append(out, ev.Reason+": "+ev.Message)
		}
	}
	return out
}
