package scheduler

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// perZone counts placements by the zone of their node.
func perZone(t *testing.T, nodes []*api.Node, pls []Placement) map[string]int {
	t.Helper()
	zoneOf := map[string]string{}
	for _, n := range nodes {
		zoneOf[n.Name] = n.Labels[api.LabelZone]
	}
	out := map[string]int{}
	for _, pl := range pls {
		if pl.Node != "" {
			out[zoneOf[pl.Node]]++
		}
	}
	return out
}

func unplaced(pls []Placement) []Placement {
	var out []Placement
	for _, pl := range pls {
		if pl.Node == "" {
			out = append(out, pl)
		}
	}
	return out
}

func replicas(n int, opts ...podOpt) []*api.Pod {
	out := make([]*api.Pod, n)
	for i := range out {
		out[i] = pod(fmt.Sprintf("web-%d", i), append([]podOpt{podLabels("app", "web")}, opts...)...)
	}
	return out
}

func TestPreviewSpreadsTenPodsFourThreeThree(t *testing.T) {
	nodes := zonedNodes(6, []string{"z1", "z2", "z3"})
	pls := Preview(NewSnapshotFrom(nodes, nil), replicas(10, spread(1, api.LabelZone, api.DoNotSchedule, "app", "web")))
	if u := unplaced(pls); len(u) > 0 {
		t.Fatalf("unplaced: %+v", u)
	}
	counts := slices.Sorted(maps.Values(perZone(t, nodes, pls)))
	if !slices.Equal(counts, []int{3, 3, 4}) {
		t.Errorf("per-zone counts %v, want 4/3/3", perZone(t, nodes, pls))
	}
}

func TestPreviewSpreadIgnoresZonesOutsideTheSelector(t *testing.T) {
	nodes := []*api.Node{
		node("a1", zone("z1"), nodeLabel("disk", "ssd")), node("a2", zone("z1"), nodeLabel("disk", "ssd")),
		node("b1", zone("z2"), nodeLabel("disk", "ssd")), node("b2", zone("z2"), nodeLabel("disk", "ssd")),
		node("c1", zone("z3")), node("c2", zone("z3")),
	}
	pls := Preview(NewSnapshotFrom(nodes, nil),
		replicas(10, nodeSelector("disk", "ssd"), spread(1, api.LabelZone, api.DoNotSchedule, "app", "web")))
	if u := unplaced(pls); len(u) > 0 {
		t.Fatalf("unplaced (the empty z3 must not cap the others): %+v", u)
	}
	if got := perZone(t, nodes, pls); got["z1"] != 5 || got["z2"] != 5 || got["z3"] != 0 {
		t.Errorf("per-zone counts %v, want z1:5 z2:5", got)
	}
}

func TestPreviewRequiredAntiAffinityByHostname(t *testing.T) {
	nodes := zonedNodes(6, []string{"z1", "z2", "z3"})
	pls := Preview(NewSnapshotFrom(nodes, nil), replicas(8, requiredAntiAffinity(term(api.LabelHostname, "app", "web"))))
	used := map[string]bool{}
	for _, pl := range pls {
		if pl.Node == "" {
			continue
		}
		if used[pl.Node] {
			t.Errorf("two pods on %s", pl.Node)
		}
		used[pl.Node] = true
	}
	u := unplaced(pls)
	if len(used) != 6 || len(u) != 2 {
		t.Fatalf("%d placed, %d unplaced; want 6 and 2", len(used), len(u))
	}
	for _, pl := range u {
		if want := "0/6 nodes available: 6 node(s) didn't match pod anti-affinity rules"; pl.Reason != want {
			t.Errorf("%s: reason %q, want %q", pl.Pod, pl.Reason, want)
		}
	}
}

func TestPreviewCountsWhatFits(t *testing.T) {
	nodes := []*api.Node{node("n1", capacity("4", "8Gi", "110")), node("n2", capacity("4", "8Gi", "110"))}
	existing := []*api.Pod{pod("e", req("1", "1Gi"), onNode("n1"))}
	snap := NewSnapshotFrom(nodes, existing)
	pods := replicas(10, req("1", "1Gi"))
	pls := Preview(snap, pods)
	placed := map[string]int{}
	for _, pl := range pls {
		placed[pl.Node]++
	}
	if placed["n1"] != 3 || placed["n2"] != 4 || placed[""] != 3 {
		t.Errorf("placements %v, want n1:3 n2:4 unplaced:3", placed)
	}
	for _, pl := range unplaced(pls) {
		if want := "0/2 nodes available: 2 insufficient cpu"; pl.Reason != want {
			t.Errorf("%s: reason %q, want %q", pl.Pod, pl.Reason, want)
		}
	}
	// The snapshot itself is untouched, and the same question gets the
	// same answer.
	if cpu, _ := snap.Get("n1").Requested(); cpu != 1000 {
		t.Errorf("snapshot changed: n1 requests %dm", cpu)
	}
	if again := Preview(snap, pods); !slices.Equal(again, pls) {
		t.Errorf("preview not reproducible:\n%v\n%v", pls, again)
	}
}

func TestPreviewKeepsPodsThatNameANode(t *testing.T) {
	snap := NewSnapshotFrom([]*api.Node{node("n1", capacity("2", "8Gi", "110")), node("n2", capacity("2", "8Gi", "110"))}, nil)
	pls := Preview(snap, []*api.Pod{pod("pinned", req("2", "1Gi"), onNode("n1")), pod("p", req("2", "1Gi")), pod("late", onNode("gone"))})
	if pls[0].Node != "n1" || pls[1].Node != "n2" {
		t.Errorf("placements %+v, want pinned on n1 and p on n2", pls)
	}
	if pls[2].Node != "" || pls[2].Reason == "" {
		t.Errorf("a pod naming an unknown node: %+v", pls[2])
	}
}
