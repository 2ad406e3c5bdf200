package nodepool_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// env is a cluster running every controller, the node pool and machine
// ones on a fake cloud whose machines "join" as simulated nodes.
type env struct {
	*cluster.Cluster
	fake *cloudtest.Fake
	// noJoin holds pools whose machines, created while it does, never
	// register a node.
	noJoin sync.Map
}

func start(t *testing.T) *env {
	t.Helper()
	fake := cloudtest.NewFake()
	e := &env{fake: fake}
	e.Cluster = cluster.Start(t, cluster.FakeCloud(fake), func(o *cluster.Options) {
		o.Manager.Controllers.NodeMonitorGracePeriod = 5 * time.Second // a loaded machine delays heartbeats
	})
	e.JoinMachines(t, fake, func(pool string) bool {
		_, ok := e.noJoin.Load(pool)
		return ok
	})
	return e
}

func pool(name string, size int32, mut ...func(*api.NodePool)) *api.NodePool {
	p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: name},
		Spec: api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: 0, MaxSize: 10, Size: api.Ptr(size),
			DrainTimeoutSeconds: api.Ptr[int64](20)}}
	for _, m := range mut {
		m(p)
	}
	return p
}

func (e *env) createPool(t *testing.T, p *api.NodePool) {
	t.Helper()
	if _, err := e.Client.NodePools().Create(e.Ctx, p); err != nil {
		t.Fatalf("creating pool %s: %v", p.Name, err)
	}
}

// editPool changes a pool (retrying conflicts with the controller's writes).
func (e *env) editPool(t *testing.T, name string, edit func(*api.NodePool)) {
	t.Helper()
	cluster.Update(t, e.Ctx, e.Client.NodePools(), name, edit)
}

// machines lists a pool's machines, by name.
func (e *env) machines(t *testing.T, pool string) []*api.Machine {
	t.Helper()
	ms, _, err := e.Client.Machines().List(e.Ctx, client.ListOptions{LabelSelector: api.LabelNodePool + "=" + pool})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ms, func(a, b *api.Machine) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

func summary(ms []*api.Machine) string {
	var s []string
	for _, m := range ms {
		d := ""
		if m.DeletionTimestamp != nil {
			d = ",deleting"
		}
		s = append(s, fmt.Sprintf("%s(%s%s,%s)", m.Name, m.Status.Phase, d, m.Labels[api.LabelTemplateHash]))
	}
	return strings.Join(s, " ")
}

// waitPoolReady waits until the pool reports size Ready machines on its
// current template and nothing else, and returns its machines.
func (e *env) waitPoolReady(t *testing.T, name string, size int, timeout time.Duration) []*api.Machine {
	t.Helper()
	var ms []*api.Machine
	cluster.Eventually(t, timeout, fmt.Sprintf("pool %s: %d machines Ready", name, size), func() (bool, string) {
		p, err := e.Client.NodePools().Get(e.Ctx, name)
		if err != nil {
			return false, err.Error()
		}
		ms = e.machines(t, name)
		c := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
		ok := c != nil && c.Status == api.ConditionTrue && p.Status.ReadyMachines == int32(size) && len(ms) == size &&
			p.Status.ObservedGeneration == p.Generation
		return ok, fmt.Sprintf("status %+v; machines %s", p.Status, summary(ms))
	})
	return ms
}

func (e *env) node(t *testing.T, name string) (*api.Node, bool) {
	t.Helper()
	n, err := e.Client.Nodes().Get(e.Ctx, name)
	if api.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return n, true
}

// events returns the reasons and messages of the events about an object.
func (e *env) events(t *testing.T, kind, name string) []string {
	t.Helper()
	evs, _, err := e.Client.Events("").List(e.Ctx, client.ListOptions{})
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

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
