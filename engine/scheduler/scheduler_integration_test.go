package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/scheduler"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// cluster is an API server with a running scheduler.
type cluster struct {
	t *testing.T
	c *client.Client
	s *scheduler.Scheduler
}

// startCluster starts an API server and a scheduler; with shared, the
// scheduler gets informers the test runs, as a controller manager would
// share them.
func startCluster(t *testing.T, shared bool) *cluster {
	t.Helper()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := scheduler.Config{Client: env.Client, Log: testenv.Logger(t)}
	if shared {
		cfg.PodInformer = client.NewInformer(env.Client.Pods(""), client.ListOptions{})
		cfg.NodeInformer = client.NewInformer(env.Client.Nodes(), client.ListOptions{})
		go cfg.PodInformer.Run(ctx)
		go cfg.NodeInformer.Run(ctx)
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
	})
	return &cluster{t: t, c: env.Client, s: s}
}

// createNode registers a Ready node with its status, as an agent does.
func (cl *cluster) createNode(name, zone, memory string) {
	cl.t.Helper()
	alloc := api.ResourceList{
		api.ResourceCPU:    resource.MustParse("4"),
		api.ResourceMemory: resource.MustParse(memory),
		api.ResourcePods:   resource.MustParse("110"),
	}
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{api.LabelZone: zone, api.LabelHostname: name}},
		Status: api.NodeStatus{
			Capacity: alloc, Allocatable: alloc,
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: time.Now()}},
		},
	}
	if _, err := cl.c.Nodes().Create(context.Background(), n); err != nil {
		cl.t.Fatalf("creating node %s: %v", name, err)
	}
}

// createNodes registers six 32 GiB nodes, two per zone, and waits until
// the scheduler has seen them all: node and pod events come through
// separate watches, and a scheduler that knew only zone-a's nodes when the
// pods arrived would rightly put them all there.
func (cl *cluster) createNodes() map[string]string {
	zoneOf := map[string]string{}
	for i := range 6 {
		name, zone := fmt.Sprintf("node-%d", i), fmt.Sprintf("zone-%c", 'a'+i%3)
		cl.createNode(name, zone, "32Gi")
		zoneOf[name] = zone
	}
	deadline := time.Now().Add(10 * time.Second)
	for cl.s.Cache().Snapshot().NumNodes() < 6 {
		if time.Now().After(deadline) {
			cl.t.Fatal("the scheduler did not see the 6 nodes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return zoneOf
}

// createPod creates p with one container requesting 100m cpu and memory.
func (cl *cluster) createPod(p *api.Pod, memory string) {
	cl.t.Helper()
	p.Namespace = "default"
	p.Spec.Containers = []api.Container{{Name: "app", Image: "app:1", Resources: api.ResourceRequirements{
		Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse(memory)},
	}}}
	if _, err := cl.c.Pods("default").Create(context.Background(), p); err != nil {
		cl.t.Fatalf("creating pod %s: %v", p.Name, err)
	}
}

// waitPods polls the pods with the label selector every 10 ms until ok
// accepts them.
func (cl *cluster) waitPods(selector string, within time.Duration, ok func([]*api.Pod) bool) []*api.Pod {
	cl.t.Helper()
	deadline := time.Now().Add(within)
	var pods []*api.Pod
	for {
		var err error
		pods, _, err = cl.c.Pods("default").List(context.Background(), client.ListOptions{LabelSelector: selector})
		if err != nil {
			cl.t.Fatalf("listing pods: %v", err)
		}
		if ok(pods) {
			return pods
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range pods {
		cl.t.Logf("%s: node %q, conditions %+v", p.Name, p.Spec.NodeName, p.Status.Conditions)
	}
	cl.t.Fatalf("pods %s did not reach the expected state within %v", selector, within)
	return nil
}

func bound(pods []*api.Pod) (n int) {
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			n++
		}
	}
	return n
}

func unschedulableMessage(p *api.Pod) string {
	c := api.FindCondition(p.Status.Conditions, api.PodScheduled)
	if c == nil || c.Status != api.ConditionFalse || c.Reason != api.ReasonUnschedulable {
		return ""
	}
	return c.Message
}

func TestSchedulerIntegration(t *testing.T) {
	t.Run("topology spread over zones", func(t *testing.T) {
		cl := startCluster(t, false)
		zoneOf := cl.createNodes()
		for i := range 10 {
			cl.createPod(&api.Pod{
				ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("spread-%d", i), Labels: map[string]string{"app": "spread"}},
				Spec: api.PodSpec{TopologySpreadConstraints: []api.TopologySpreadConstraint{{
					MaxSkew: 1, TopologyKey: api.LabelZone, WhenUnsatisfiable: api.DoNotSchedule,
					LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
				}}},
			}, "100Mi")
		}
		pods := cl.waitPods("app=spread", 20*time.Second, func(ps []*api.Pod) bool { return bound(ps) == 10 })
		perZone := map[string]int{}
		for _, p := range pods {
			perZone[zoneOf[p.Spec.NodeName]]++
		}
		counts := []int{perZone["zone-a"], perZone["zone-b"], perZone["zone-c"]}
		slices.Sort(counts)
		if !slices.Equal(counts, []int{3, 3, 4}) {
			t.Errorf("pods per zone %v, want 4/3/3", perZone)
		}
	})

	t.Run("required anti-affinity by hostname", func(t *testing.T) {
		cl := startCluster(t, true) // and with shared informers
		cl.createNodes()
		for i := range 8 {
			cl.createPod(&api.Pod{
				ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("anti-%d", i), Labels: map[string]string{"app": "anti"}},
				Spec: api.PodSpec{Affinity: &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{{
						TopologyKey:   api.LabelHostname,
						LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "anti"}},
					}},
				}}},
			}, "100Mi")
		}
		want := "0/6 nodes available: 6 node(s) didn't match pod anti-affinity rules"
		pods := cl.waitPods("app=anti", 20*time.Second, func(ps []*api.Pod) bool {
			pending := 0
			for _, p := range ps {
				if p.Spec.NodeName == "" && unschedulableMessage(p) == want {
					pending++
				}
			}
			return bound(ps) == 6 && pending == 2
		})
		nodes := map[string]bool{}
		for _, p := range pods {
			if p.Spec.NodeName != "" {
				if nodes[p.Spec.NodeName] {
					t.Errorf("two pods on %s", p.Spec.NodeName)
				}
				nodes[p.Spec.NodeName] = true
			}
		}
	})

	t.Run("a pod too big for every node waits for a bigger one", func(t *testing.T) {
		cl := startCluster(t, false)
		cl.createNodes()
		cl.createPod(&api.Pod{ObjectMeta: api.ObjectMeta{Name: "huge", Labels: map[string]string{"app": "huge"}}}, "64Gi")
		want := "0/6 nodes available: 6 insufficient memory"
		cl.waitPods("app=huge", 20*time.Second, func(ps []*api.Pod) bool {
			return len(ps) == 1 && ps[0].Spec.NodeName == "" && unschedulableMessage(ps[0]) == want
		})

		cl.createNode("node-big", "zone-a", "128Gi")
		created := time.Now()
		pods := cl.waitPods("app=huge", 5*time.Second, func(ps []*api.Pod) bool { return bound(ps) == 1 })
		took := time.Since(created)
		t.Logf("bound %v after the node was created", took)
		if pods[0].Spec.NodeName != "node-big" {
			t.Errorf("bound to %s, want node-big", pods[0].Spec.NodeName)
		}
		if took >= time.Second {
			t.Errorf("bound %v after the node was created, want < 1s", took)
		}
	})
}
