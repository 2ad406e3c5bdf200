package scheduler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// fakeClock is a settable clock for TTL tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func requested(t *testing.T, c *Cache, name string) (cpu, mem int64, pods int) {
	t.Helper()
	n := c.NodeInfo(name)
	if n == nil {
		t.Fatalf("node %s not in cache", name)
	}
	cpu, mem = n.Requested()
	return cpu, mem, len(n.Pods())
}

func TestCacheCountsBoundPods(t *testing.T) {
	c := NewCache(CacheOptions{})
	c.AddNode(node("n1"))
	c.AddPod(pod("a", req("500m", "1Gi"), onNode("n1")))
	c.AddPod(pod("b", req("250m", "1Gi"), onNode("n1")))
	c.AddPod(pod("unbound", req("1", "1Gi")))                                  // not the cache's business
	c.AddPod(pod("done", req("1", "1Gi"), onNode("n1"), phase(api.PodFailed))) // terminal: not counted
	if cpu, mem, n := requested(t, c, "n1"); cpu != 750 || mem != 2<<30 || n != 2 {
		t.Fatalf("requested %dm, %d bytes, %d pods; want 750m, 2Gi, 2", cpu, mem, n)
	}
	c.UpdatePod(pod("a", req("500m", "1Gi"), onNode("n1"), phase(api.PodSucceeded)))
	if cpu, _, n := requested(t, c, "n1"); cpu != 250 || n != 1 {
		t.Errorf("after a pod finished: %dm, %d pods; want 250m, 1", cpu, n)
	}
	if !c.RemovePod("default/b") || c.RemovePod("default/b") {
		t.Error("RemovePod should report the first removal only")
	}
	if cpu, _, n := requested(t, c, "n1"); cpu != 0 || n != 0 {
		t.Errorf("after removal: %dm, %d pods", cpu, n)
	}
}

func TestCacheAssumedPods(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := NewCache(CacheOptions{AssumeTTL: 30 * time.Second, Now: clock.now})
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	assume := func(name, on string) *PodInfo {
		pi := mustPodInfo(t, pod(name, req("1", "1Gi")))
		if err := c.AssumePod(pi, on); err != nil {
			t.Fatal(err)
		}
		return pi
	}

	a := assume("a", "n1")
	if cpu, _, _ := requested(t, c, "n1"); cpu != 1000 || !c.IsAssumed(a.Key) {
		t.Fatalf("assumed pod not counted: %dm", cpu)
	}
	if err := c.AssumePod(a, "n2"); err == nil {
		t.Error("assuming a pod twice succeeded")
	}
	if err := c.AssumePod(mustPodInfo(t, pod("x")), "nowhere"); err == nil {
		t.Error("assuming on an unknown node succeeded")
	}

	// Without FinishBinding the TTL does not run: the binding is in flight.
	clock.advance(time.Hour)
	if got := c.CleanupExpired(); len(got) != 0 {
		t.Fatalf("expired while binding: %v", got)
	}
	c.FinishBinding(a.Key)
	clock.advance(29 * time.Second)
	if got := c.CleanupExpired(); len(got) != 0 {
		t.Fatalf("expired before the TTL: %v", got)
	}
	clock.advance(2 * time.Second)
	if got := c.CleanupExpired(); !slices.Equal(got, []string{a.Key}) {
		t.Fatalf("expired %v, want [%s]", got, a.Key)
	}
	if cpu, _, _ := requested(t, c, "n1"); cpu != 0 {
		t.Errorf("expired pod still counted: %dm", cpu)
	}

	// Confirmed by the watch: no longer assumed, never expires.
	b := assume("b", "n1")
	c.FinishBinding(b.Key)
	c.AddPod(pod("b", req("1", "1Gi"), onNode("n1")))
	if c.IsAssumed(b.Key) {
		t.Error("confirmed pod still assumed")
	}
	clock.advance(time.Hour)
	if got := c.CleanupExpired(); len(got) != 0 {
		t.Errorf("confirmed pod expired: %v", got)
	}
	if c.ForgetPod(b.Key) {
		t.Error("ForgetPod dropped a confirmed pod")
	}
	if cpu, _, n := requested(t, c, "n1"); cpu != 1000 || n != 1 {
		t.Errorf("confirmed pod counted %dm on %d pods, want 1000m once", cpu, n)
	}

	// Bound elsewhere than assumed: the watch wins.
	d := assume("d", "n1")
	c.AddPod(pod("d", req("1", "1Gi"), onNode("n2")))
	if cpu, _, _ := requested(t, c, "n2"); cpu != 1000 || c.IsAssumed(d.Key) {
		t.Errorf("pod bound to n2 not moved there: n2 %dm", cpu)
	}

	// A failed binding is forgotten at once.
	e := assume("e", "n2")
	if !c.ForgetPod(e.Key) {
		t.Error("ForgetPod of an assumed pod reported nothing freed")
	}
	if cpu, _, _ := requested(t, c, "n2"); cpu != 1000 {
		t.Errorf("n2 requests %dm after forgetting, want 1000m", cpu)
	}
}

func TestCachePlaceholderNodes(t *testing.T) {
	c := NewCache(CacheOptions{})
	c.AddPod(pod("early", req("1", "1Gi"), onNode("late")))
	if s := c.Snapshot(); s.NumNodes() != 0 {
		t.Fatalf("placeholder in snapshot: %d nodes", s.NumNodes())
	}
	c.AddNode(node("late"))
	s := c.Snapshot()
	if n := s.Get("late"); n == nil || len(n.Pods()) != 1 {
		t.Fatalf("pod that arrived before its node not counted: %+v", n)
	}
	c.RemoveNode("late")
	if s := c.Snapshot(); s.NumNodes() != 0 {
		t.Errorf("removed node still in snapshot")
	}
	if c.NodeInfo("late") == nil {
		t.Errorf("placeholder for the removed node's pod is gone")
	}
	c.RemovePod("default/early")
	if c.NodeInfo("late") != nil {
		t.Errorf("empty placeholder kept")
	}
}

// TestUpdateSnapshotMatchesFreshSnapshot drives a cache with random
// changes and checks after each that the incrementally updated snapshot,
// topology index included, equals one built from scratch.
func TestUpdateSnapshotMatchesFreshSnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := NewCache(CacheOptions{})
	zones := []string{"z1", "z2", "z3"}
	for i := range 12 {
		c.AddNode(node(fmt.Sprintf("n%d", i), zone(zones[i%3])))
	}
	apps := []string{"web", "db", "cache"}
	mkPod := func(i int) *api.Pod {
		app := apps[rng.IntN(len(apps))]
		opts := []podOpt{req("100m", "100Mi"), podLabels("app", app), ownedBy("rs-" + app)}
		switch rng.IntN(4) {
		case 0:
			opts = append(opts, requiredAntiAffinity(term(api.LabelHostname, "app", app)))
		case 1:
			opts = append(opts, preferredAffinity(int32(1+rng.IntN(50)), term(api.LabelZone, "app", apps[rng.IntN(3)])))
		}
		return pod(fmt.Sprintf("p%d", i), opts...)
	}

	snap := &Snapshot{}
	live := map[string]*api.Pod{}
	// Questions the index is asked, so groups exist and get updated.
	queries := []*PodInfo{
		mustPodInfo(t, pod("q1", podLabels("app", "web"), ownedBy("rs-web"), spread(1, api.LabelZone, api.DoNotSchedule, "app", "web"))),
		mustPodInfo(t, pod("q2", podLabels("app", "db"), requiredAntiAffinity(term(api.LabelHostname, "app", "db")),
			preferredAntiAffinity(10, term(api.LabelZone, "app", "cache")))),
	}
	for step := range 400 {
		switch op := rng.IntN(10); {
		case op < 4:
			p := mkPod(step)
			p.Spec.NodeName = fmt.Sprintf("n%d", rng.IntN(12))
			c.AddPod(p)
			live[p.Key()] = p
		case op < 6:
			pi := mustPodInfo(t, mkPod(step))
			_ = c.AssumePod(pi, fmt.Sprintf("n%d", rng.IntN(12)))
		case op < 8:
			for key := range live {
				c.RemovePod(key)
				delete(live, key)
				break
			}
		case op < 9:
			for key, p := range live {
				q := *p
				q.Labels = map[string]string{"app": apps[rng.IntN(3)]}
				c.UpdatePod(&q)
				live[key] = &q
				break
			}
		default:
			i := rng.IntN(12)
			c.AddNode(node(fmt.Sprintf("n%d", i), zone(zones[rng.IntN(3)])))
		}
		c.UpdateSnapshot(snap)
		fresh := c.Snapshot()
		compareSnapshots(t, step, snap, fresh, queries)
	}
}

func compareSnapshots(t *testing.T, step int, got, want *Snapshot, queries []*PodInfo) {
	t.Helper()
	if got.NumNodes() != want.NumNodes() {
		t.Fatalf("step %d: %d nodes, want %d", step, got.NumNodes(), want.NumNodes())
	}
	for _, w := range want.nodes {
		g := got.Get(w.Name)
		if g == nil || g.reqCPU != w.reqCPU || g.reqMemory != w.reqMemory || len(g.pods) != len(w.pods) {
			t.Fatalf("step %d: node %s differs: %+v vs %+v", step, w.Name, g, w)
		}
	}
	for _, q := range queries {
		var gs, ws CycleState
		gs.PreFilter(got, q)
		ws.PreFilter(want, q)
		for _, w := range want.nodes {
			g := got.Get(w.Name)
			for _, f := range []Filter{podAffinityFilter{}, topologySpreadFilter{}} {
				if a, b := f.Filter(&gs, g), f.Filter(&ws, w); a != b {
					t.Fatalf("step %d: %T on %s for %s: incremental %v, fresh %v", step, f, w.Name, q.Key, a.Reasons(), b.Reasons())
				}
			}
			for _, sc := range []Scorer{podAffinityScorer{}, ownerSpreadNodeScorer{}, ownerSpreadZoneScorer{}} {
				if sc == (ownerSpreadNodeScorer{}) || sc == (ownerSpreadZoneScorer{}) {
					if gs.owner == nil || gs.ownerZone == nil {
						continue
					}
				}
				if a, b := sc.Score(&gs, g), sc.Score(&ws, w); a != b {
					t.Fatalf("step %d: %T on %s for %s: incremental %d, fresh %d", step, sc, w.Name, q.Key, a, b)
				}
			}
		}
	}
}
