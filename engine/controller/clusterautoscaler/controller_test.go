package clusterautoscaler_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/internal/podcapacity"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// unneededTime is the shortened --scale-down-unneeded-time of the tests.
const unneededTime = 2 * time.Second

// start runs a cluster whose pools are on a fake cloud whose machines join
// as simulated nodes (4 cpus, 32 GiB each), with the cluster autoscaler's
// times shortened.
func start(t *testing.T) *cluster.Cluster {
	t.Helper()
	fake := cloudtest.NewFake()
	c := cluster.Start(t, cluster.FakeCloud(fake), func(o *cluster.Options) {
		o.Manager.Controllers.NodeMonitorGracePeriod = 5 * time.Second
		o.Manager.ClusterAutoscaler = clusterautoscaler.Config{ScanInterval: 300 * time.Millisecond,
			BatchQuiet: 200 * time.Millisecond, BatchMax: 2 * time.Second, ScaleDownUnneededTime: unneededTime}
	})
	c.JoinMachines(t, fake, nil)
	return c
}

func autoscalingPool(t *testing.T, c *cluster.Cluster, name string, minSize, maxSize int32) {
	t.Helper()
	p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodePoolSpec{Provider: api.ProviderLocal,
		MinSize: minSize, MaxSize: maxSize, Autoscaling: true, DrainTimeoutSeconds: api.Ptr[int64](20)}}
	if _, err := c.Client.NodePools().Create(c.Ctx, p); err != nil {
		t.Fatal(err)
	}
	waitPool(t, c, name, int(minSize))
}

// waitPool waits until the pool's size is size, with as many Ready machines
// and nothing else.
func waitPool(t *testing.T, c *cluster.Cluster, name string, size int) {
	t.Helper()
	cluster.Eventually(t, 60*time.Second, fmt.Sprintf("pool %s at %d Ready machines", name, size), func() (bool, string) {
		p, err := c.Client.NodePools().Get(c.Ctx, name)
		if err != nil {
			return false, err.Error()
		}
		ms, _, _ := c.Client.Machines().List(c.Ctx, client.ListOptions{LabelSelector: api.LabelNodePool + "=" + name})
		return p.Spec.Size != nil && int(*p.Spec.Size) == size && int(p.Status.ReadyMachines) == size && len(ms) == size,
			fmt.Sprintf("size %v, status %+v, %d machines", *p.Spec.Size, p.Status, len(ms))
	})
}

// deployment runs replicas pods requesting cpu each.
func deployment(t *testing.T, c *cluster.Cluster, name string, replicas int32, cpu string) {
	t.Helper()
	d := testenv.DemoDeployment("demo", name, replicas, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: resource.MustParse(cpu),
			api.ResourceMemory: resource.MustParse("256Mi")}
	})
	if _, err := c.Client.Deployments("default").Create(c.Ctx, d); err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, c *cluster.Cluster, kind, name string) []string {
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

// scaleUps is the size before the first ScaledUpGroup event and the
// largest size any of them reached (0, 0 with none).
func scaleUps(evs []string) (from, to int) {
	re := regexp.MustCompile(`^` + api.ReasonScaledUpGroup + `: size (\d+) -> (\d+)`)
	first := -1
	for _, e := range evs {
		m := re.FindStringSubmatch(e)
		if m == nil {
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if first == -1 || a < first {
			first = a
		}
		to = max(to, b)
	}
	return max(first, 0), to
}

func hasEvent(evs []string, prefix string) bool {
	return slices.ContainsFunc(evs, func(e string) bool { return strings.HasPrefix(e, prefix) })
}

// TestPendingPodsGrowThePoolAndIdleNodesGo: five pods of 1.5 cpus, two per
// 4-cpu node, make a pool of 1 grow to 3 (the fewest nodes that hold them,
// below its max of 4) and all run; the pods say which pool they wait
// for. With the pods gone, the pool shrinks back to its min after the
// unneeded time.
func TestPendingPodsGrowThePoolAndIdleNodesGo(t *testing.T) {
	c := start(t)
	autoscalingPool(t, c, "web", 1, 4)
	deployment(t, c, "load", 5, "1500m")
	cluster.Eventually(t, 60*time.Second, "5 pods Running", func() (bool, string) {
		pods := c.Pods(t, "default", "app=load")
		running := 0
		for _, p := range pods {
			if p.Status.Phase == api.PodRunning {
				running++
			}
		}
		return running == 5, fmt.Sprintf("%d of %d pods Running", running, len(pods))
	})
	waitPool(t, c, "web", 3)
	// One batch usually holds all three pending pods (1 -> 3); on a
	// loaded machine the scheduler may report them more than 1 s apart and
	// the batch closes early (1 -> 2 -> 3; TestBatch checks the batching).
	// Either way the pool grows from 1 and never past the 3 nodes needed.
	evs := events(t, c, "NodePool", "web")
	if from, to := scaleUps(evs); from != 1 || to != 3 {
		t.Errorf("pool events %q; want ScaledUpGroup from size 1 up to 3, never more", evs)
	}
	var told bool
	for _, p := range c.Pods(t, "default", "app=load") {
		told = told || hasEvent(events(t, c, "Pod", p.Name), api.ReasonTriggeredScaleUp+": "+api.MessageWaitingForPool+"web to add")
	}
	if !told {
		t.Errorf("no pod was told it waits for node pool web")
	}

	cluster.Update(t, c.Ctx, c.Client.Deployments("default"), "load", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr[int32](0) })
	waitPool(t, c, "web", 1)
	if evs := events(t, c, "NodePool", "web"); !hasEvent(evs, api.ReasonScaleDown+": node ") {
		t.Errorf("pool events %q; want ScaleDown naming the node", evs)
	}
	p, _ := c.Client.NodePools().Get(c.Ctx, "web")
	if cond := api.FindCondition(p.Status.Conditions, api.NodePoolAutoscaling); cond == nil || cond.Reason != api.ReasonScaleDown {
		t.Errorf("pool Autoscaling condition %+v; want ScaleDown", cond)
	}
}

// TestPodTooBigForEveryPool: a pod asking for more cpu than a node of any
// pool has is told at once, a rollout wait (what `maestro rollout status`
// and the provider read) fails with the reason, and the pool does not grow.
func TestPodTooBigForEveryPool(t *testing.T) {
	c := start(t)
	autoscalingPool(t, c, "web", 1, 4)
	deployment(t, c, "huge", 1, "64")
	cluster.Eventually(t, 30*time.Second, "the pod told no pool can hold it", func() (bool, string) {
		pods := c.Pods(t, "default", "app=huge")
		if len(pods) != 1 {
			return false, "no pod yet"
		}
		evs := events(t, c, "Pod", pods[0].Name)
		return hasEvent(evs, api.ReasonNotTriggerScaleUp+": "+api.MessageNoPoolCanHold+": node pool web: a new node would not fit it (insufficient cpu)"),
			fmt.Sprintf("events %q", evs)
	})
	d, _ := c.Client.Deployments("default").Get(c.Ctx, "huge")
	if r, err := podcapacity.ForDeployment(c.Ctx, c.Client, d); err != nil || r.Never == nil || !strings.Contains(r.Never.Error(), "insufficient cpu") {
		t.Errorf("rollout wait: %+v, %v; want it to fail with the reason", r, err)
	}
	p, _ := c.Client.NodePools().Get(c.Ctx, "web")
	cond := api.FindCondition(p.Status.Conditions, api.NodePoolAutoscaling)
	if *p.Spec.Size != 1 || cond == nil || cond.Reason != api.ReasonNotTriggerScaleUp || !strings.Contains(cond.Message, "insufficient cpu") {
		t.Errorf("pool size %d, Autoscaling condition %+v; want 1 and NotTriggerScaleUp with the reason", *p.Spec.Size, cond)
	}
}
