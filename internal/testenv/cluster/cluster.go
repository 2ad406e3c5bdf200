// Package cluster starts a whole in-process cluster for tests: the API
// server of testenv plus the scheduler and controllers (engine/manager),
// with test-friendly timings, and simulated nodes on demand. It is separate
// from testenv because the controllers' own tests use testenv and must not
// import themselves through it.
package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// Cluster is a running test cluster.
type Cluster struct {
	*testenv.Env
	Fleet *simnode.Fleet
	Ctx   context.Context
}

// Options configure a test cluster.
type Options struct {
	Manager manager.Config
	// Heartbeat is the simulated nodes' heartbeat interval (default 500 ms).
	Heartbeat time.Duration
	// Fsync makes the embedded etcd sync to disk, as in production (tests
	// skip it by default).
	Fsync bool
	// ControlPlane, when set, edits the control plane's config.
	ControlPlane func(*controlplane.Config)
}

// Option edits the options.
type Option func(*Options)

// Start runs an API server with the scheduler and controllers, and a fleet
// of simulated nodes (initially empty), all stopped when the test ends.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	o := Options{Heartbeat: 500 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	log := testenv.Logger(t)
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) {
		c.Leader = func(ctx context.Context, cl *client.Client) { _ = manager.Run(ctx, cl, log, o.Manager) }
		c.UnsafeNoFsync = !o.Fsync
		if o.ControlPlane != nil {
			o.ControlPlane(c)
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fleet := simnode.NewFleet(simnode.Config{Client: env.Client, Log: log, HeartbeatInterval: o.Heartbeat})
	go fleet.Run(ctx)
	return &Cluster{Env: env, Fleet: fleet, Ctx: ctx}
}

// AddNodes registers simulated nodes named <prefix>0..n-1, assigning zones
// in turn, and waits until the API lists them ready.
func (c *Cluster) AddNodes(t testing.TB, prefix string, n int, zones ...string) []string {
	t.Helper()
	names := make([]string, n)
	for i := range n {
		spec := simnode.NodeSpec{Name: prefix + itoa(i)}
		if len(zones) > 0 {
			spec.Zone = zones[i%len(zones)]
		}
		if _, err := c.Fleet.Add(c.Ctx, spec); err != nil {
			t.Fatal(err)
		}
		names[i] = spec.Name
	}
	return names
}

// AddNode registers one simulated node.
func (c *Cluster) AddNode(t testing.TB, spec simnode.NodeSpec) {
	t.Helper()
	if _, err := c.Fleet.Add(c.Ctx, spec); err != nil {
		t.Fatal(err)
	}
}

// Eventually polls cond every 10 ms until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		last = state
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s (last state: %s)", what, timeout, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitSchedulerSees waits until the scheduler's own view holds n nodes.
// Nodes are in the API when AddNodes returns, but the scheduler learns of
// them through its watch, which a loaded machine can delay past the
// creation of the pods a test then places: a test that asserts where pods
// go (a spread over zones) first waits for this. It asks the scheduler
// itself: a probe pod that fits no node is refused with "0/<nodes> nodes
// available", counted from the scheduler's cache.
func (c *Cluster) WaitSchedulerSees(t testing.TB, n int) {
	t.Helper()
	pods := c.Client.Pods("default")
	probe := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "scheduler-sees-probe", Namespace: "default"},
		Spec: api.PodSpec{
			NodeSelector: map[string]string{"test.maestro.dev/no-such-node": "true"},
			Containers:   []api.Container{{Name: "probe", Image: "probe:1"}},
		},
	}
	if _, err := pods.Create(c.Ctx, probe); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("0/%d nodes available", n)
	Eventually(t, 30*time.Second, "the scheduler sees "+itoa(n)+" nodes", func() (bool, string) {
		p, err := pods.Get(c.Ctx, probe.Name)
		if err != nil {
			return false, err.Error()
		}
		cond := api.FindCondition(p.Status.Conditions, api.PodScheduled)
		if cond == nil {
			return false, "probe pod not tried yet"
		}
		return strings.HasPrefix(cond.Message, want), cond.Message
	})
	if err := pods.Delete(c.Ctx, probe.Name); err != nil && !api.IsNotFound(err) {
		t.Fatal(err)
	}
}

// Pods lists the pods of a namespace matching a label selector.
func (c *Cluster) Pods(t testing.TB, ns, selector string) []*api.Pod {
	t.Helper()
	pods, _, err := c.Client.Pods(ns).List(c.Ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
