package scheduler

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// scoreCase runs one scorer for a pod over every node of a small cluster
// and compares the raw scores, in node-name order.
type scoreCase struct {
	name     string
	nodes    []*api.Node
	existing []*api.Pod
	pod      *api.Pod
	want     []int64 // raw scores by node, in the order of nodes
}

func runScoreCases(t *testing.T, sc Scorer, cases []scoreCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := NewSnapshotFrom(tc.nodes, tc.existing)
			var st CycleState
			st.PreFilter(snap, mustPodInfo(t, tc.pod))
			got := make([]int64, len(tc.nodes))
			for i, n := range tc.nodes {
				got[i] = sc.Score(&st, snap.Get(n.Name))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("raw scores %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResourceScorers(t *testing.T) {
	nodes := []*api.Node{node("empty"), node("half", capacity("4", "32Gi", "110")), node("full", capacity("1", "1Gi", "110"))}
	existing := []*api.Pod{pod("a", req("2", "16Gi"), onNode("half"))}
	p := pod("p", req("1", "8Gi"))
	// empty: cpu (4-1)/4=75, mem (32-8)/32=75 -> 75; half: cpu 25, mem 25 -> 25;
	// full: the pod alone exceeds it -> 0.
	runScoreCases(t, leastAllocatedScorer{}, []scoreCase{
		{name: "least allocated", nodes: nodes, existing: existing, pod: p, want: []int64{75, 25, 0}},
		{name: "no requests use the defaults", nodes: nodes[:1], pod: pod("p"),
			want: []int64{(97 + 99) / 2}}, // 100m of 4 cores left 97.5%, 200Mi of 32Gi 99.4%
	})
	runScoreCases(t, mostAllocatedScorer{}, []scoreCase{
		{name: "most allocated", nodes: nodes, existing: existing, pod: p, want: []int64{25, 75, 100}},
	})
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int64
		norm normalization
		want []int64
	}{
		{"relative spans 0..100", []int64{-3, -1, -2}, relative, []int64{0, 100, 50}},
		{"relative all equal", []int64{7, 7}, relative, []int64{0, 0}},
		{"relative rounds down", []int64{0, 1, 3}, relative, []int64{0, 33, 100}},
		{"absolute untouched", []int64{10, 90}, absolute, []int64{10, 90}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Clone(tc.in)
			normalize(got, tc.norm)
			if !slices.Equal(got, tc.want) {
				t.Errorf("normalize(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSelectorSpreadScorers(t *testing.T) {
	nodes := []*api.Node{node("a1", zone("z1")), node("a2", zone("z1")), node("b1", zone("z2"))}
	existing := []*api.Pod{
		pod("r1", ownedBy("rs"), onNode("a1")), pod("r2", ownedBy("rs"), onNode("a1")),
		pod("other", ownedBy("other"), onNode("b1")),
	}
	runScoreCases(t, ownerSpreadNodeScorer{}, []scoreCase{
		{name: "replicas per node", nodes: nodes, existing: existing, pod: pod("p", ownedBy("rs")), want: []int64{-2, 0, 0}},
	})
	runScoreCases(t, ownerSpreadZoneScorer{}, []scoreCase{
		{name: "replicas per zone", nodes: nodes, existing: existing, pod: pod("p", ownedBy("rs")), want: []int64{-2, -2, 0}},
	})
}

func TestTopologySpreadScorer(t *testing.T) {
	nodes := []*api.Node{node("a1", zone("z1")), node("b1", zone("z2")), node("bare")}
	existing := []*api.Pod{
		pod("w1", podLabels("app", "web"), onNode("a1")), pod("w2", podLabels("app", "web"), onNode("a1")),
		pod("w3", podLabels("app", "web"), onNode("b1")),
	}
	runScoreCases(t, topologySpreadScorer{}, []scoreCase{
		{name: "fewer matching pods is better; no key is worst", nodes: nodes, existing: existing,
			pod:  pod("p", podLabels("app", "web"), spread(1, api.LabelZone, api.ScheduleAnyway, "app", "web")),
			want: []int64{-2, -1, -3}},
	})
}

func TestNodeAffinityScorer(t *testing.T) {
	nodes := []*api.Node{node("ssd", nodeLabel("disk", "ssd"), zone("z1")), node("hdd", nodeLabel("disk", "hdd"), zone("z1")), node("none")}
	runScoreCases(t, nodeAffinityScorer{}, []scoreCase{
		{name: "weights of matching terms add up", nodes: nodes, want: []int64{80, 20, 0},
			pod: pod("p", preferredNodeTerm(60, expr("disk", api.SelectorOpIn, "ssd")),
				preferredNodeTerm(20, expr(api.LabelZone, api.SelectorOpExists)))},
	})
}

func TestPodAffinityScorer(t *testing.T) {
	nodes := []*api.Node{node("a1", zone("z1")), node("a2", zone("z1")), node("b1", zone("z2"))}
	cache := pod("cache", podLabels("app", "cache"), onNode("a1"))
	runScoreCases(t, podAffinityScorer{}, []scoreCase{
		{name: "preferred affinity attracts to the zone", nodes: nodes, existing: []*api.Pod{cache},
			pod: pod("p", preferredAffinity(10, term(api.LabelZone, "app", "cache"))), want: []int64{10, 10, 0}},
		{name: "preferred anti-affinity repels from the host", nodes: nodes, existing: []*api.Pod{cache},
			pod: pod("p", preferredAntiAffinity(10, term(api.LabelHostname, "app", "cache"))), want: []int64{-10, 0, 0}},
		{name: "existing pods' preferred anti-affinity counts too", nodes: nodes,
			existing: []*api.Pod{pod("loner", onNode("b1"), preferredAntiAffinity(30, term(api.LabelZone, "app", "web")))},
			pod:      pod("p", podLabels("app", "web")), want: []int64{0, 0, -30}},
		{name: "existing pods' preferred affinity attracts", nodes: nodes,
			existing: []*api.Pod{pod("friend", onNode("a2"), preferredAffinity(5, term(api.LabelHostname, "app", "web")))},
			pod:      pod("p", podLabels("app", "web")), want: []int64{0, 5, 0}},
	})
}

func TestTaintScorer(t *testing.T) {
	nodes := []*api.Node{
		node("clean"),
		node("one", taint("a", "1", api.TaintPreferNoSchedule)),
		node("two", taint("a", "1", api.TaintPreferNoSchedule), taint("b", "1", api.TaintPreferNoSchedule)),
	}
	runScoreCases(t, taintScorer{}, []scoreCase{
		{name: "untolerated PreferNoSchedule taints", nodes: nodes, pod: pod("p"), want: []int64{0, -1, -2}},
		{name: "tolerated ones do not count", nodes: nodes, pod: pod("p", toleration("a", api.TolerationOpExists, "", api.TaintPreferNoSchedule)),
			want: []int64{0, 0, -1}},
	})
}
