// Package cluster starts a whole in-process cluster for tests: the API
// server of testenv plus the scheduler and controllers (engine/manager),
// with test-friendly timings, and simulated nodes on demand. It is separate
// from testenv because the controllers' own tests use testenv and must not
// import themselves through it.
package cluster

import (
	"context"
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
