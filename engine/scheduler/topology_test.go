package scheduler

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
)

func TestTopologyIndexCountsPerDomain(t *testing.T) {
	nodes := []*api.Node{node("a1", zone("z1")), node("a2", zone("z1")), node("b1", zone("z2")), node("bare")}
	existing := []*api.Pod{
		pod("w1", podLabels("app", "web"), onNode("a1")), pod("w2", podLabels("app", "web"), onNode("a2")),
		pod("w3", podLabels("app", "web"), onNode("bare")), pod("d1", podLabels("app", "db"), onNode("b1")),
		pod("w4", podLabels("app", "web"), onNode("b1"), inNamespace("other")),
	}
	snap := NewSnapshotFrom(nodes, existing)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	g := snap.index.group(groupKey([]string{"default"}, sel), []string{"default"}, sel)
	if g.total != 3 {
		t.Errorf("group total %d, want 3 (w4 is in another namespace)", g.total)
	}
	kc := g.counts(snap, api.LabelZone)
	for name, want := range map[string]int32{"a1": 2, "a2": 2, "b1": 0} {
		if got, ok := kc.at(snap.Get(name)); !ok || got != want {
			t.Errorf("zone count at %s: %d (%v), want %d", name, got, ok, want)
		}
	}
	if _, ok := kc.at(snap.Get("bare")); ok {
		t.Error("a node without a zone has a zone count")
	}

	// A placement updates every existing group incrementally.
	if err := snap.place(mustPodInfo(t, pod("w5", podLabels("app", "web"))), "b1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := kc.at(snap.Get("b1")); got != 1 || g.total != 4 {
		t.Errorf("after placing on b1: zone count %d, total %d; want 1 and 4", got, g.total)
	}
}

func TestTopologyIndexEvictsUnusedGroups(t *testing.T) {
	snap := NewSnapshotFrom([]*api.Node{node("n1", zone("z1"))}, nil)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	snap.index.group("k", []string{"default"}, sel)
	snap.index.owner("rs")
	for range evictAfter {
		snap.index.tick()
	}
	if len(snap.index.groups) != 1 || len(snap.index.owners) != 1 {
		t.Fatal("groups evicted too early")
	}
	for range evictEvery {
		snap.index.tick()
	}
	if len(snap.index.groups) != 0 || len(snap.index.owners) != 0 {
		t.Errorf("unused groups kept: %d groups, %d owners", len(snap.index.groups), len(snap.index.owners))
	}
}

func TestCarriedTermsGoAwayWithTheirPods(t *testing.T) {
	c := NewCache(CacheOptions{})
	c.AddNode(node("n1", zone("z1")))
	c.AddPod(pod("loner", onNode("n1"), requiredAntiAffinity(term(api.LabelHostname, "app", "web"))))
	snap := &Snapshot{}
	c.UpdateSnapshot(snap)
	if len(snap.index.requiredAnti) != 1 {
		t.Fatalf("%d carried anti-affinity terms, want 1", len(snap.index.requiredAnti))
	}
	c.RemovePod("default/loner")
	c.UpdateSnapshot(snap)
	if len(snap.index.requiredAnti) != 0 {
		t.Errorf("carried term outlived its pod")
	}
}
