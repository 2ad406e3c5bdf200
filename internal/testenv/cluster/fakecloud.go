package cluster

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/controller/machine"
	"github.com/maestro-dev/maestro/engine/simnode"
)

// FakeCloud runs the node pool and machine controllers with every pool on
// fake: Start(t, FakeCloud(fake)), then JoinMachines so its machines
// become nodes.
func FakeCloud(fake *cloudtest.Fake) Option {
	return func(o *Options) {
		o.Manager.Machines = machine.Config{CAPEM: []byte("test CA"), Clouds: fakeClouds{fake}, CloudPollInterval: 300 * time.Millisecond}
	}
}

type fakeClouds struct{ fake *cloudtest.Fake }

func (f fakeClouds) For(context.Context, *api.NodePool) (cloud.Cloud, error) { return f.fake, nil }

// JoinMachines makes each machine the fake cloud creates register as a
// simulated node of its name, labelled with its request's labels and its
// pool, and stop when the machine is deleted. Machines of a pool for
// which noJoin reports true (nil: none) never join.
func (c *Cluster) JoinMachines(t testing.TB, fake *cloudtest.Fake, noJoin func(pool string) bool) {
	fake.OnCreate = func(req cloud.MachineRequest, _ cloud.Machine) {
		if noJoin != nil && noJoin(req.Pool) {
			return
		}
		ls := maps.Clone(req.Labels)
		if ls == nil {
			ls = map[string]string{}
		}
		ls[api.LabelNodePool] = req.Pool
		// A machine made while the test ends (the cluster's context
		// cancelled) is not a failure of the test.
		if _, err := c.Fleet.Add(c.Ctx, simnode.NodeSpec{Name: req.Name, Zone: req.Zone, Labels: ls}); err != nil && c.Ctx.Err() == nil {
			t.Errorf("simulated node for machine %s: %v", req.Name, err)
		}
	}
	fake.OnDelete = func(m cloud.Machine) {
		if n := c.Fleet.Node(m.Name); n != nil {
			n.Stop()
		}
	}
}
