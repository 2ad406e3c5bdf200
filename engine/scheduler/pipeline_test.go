package scheduler

import (
	"fmt"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestDiagnosisMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nodes  int
		counts map[Reason]int
		want   string
	}{
		{"by count descending", 5, map[Reason]int{ReasonInsufficientMemory: 3, ReasonNodeAffinity: 2},
			"0/5 nodes available: 3 insufficient memory, 2 node(s) didn't match Pod's node affinity/selector"},
		{"ties by reason", 4, map[Reason]int{ReasonTaints: 2, ReasonInsufficientCPU: 2},
			"0/4 nodes available: 2 insufficient cpu, 2 node(s) had untolerated taint(s)"},
		{"a node short of two resources counts twice", 1, map[Reason]int{ReasonInsufficientCPU: 1, ReasonInsufficientMemory: 1},
			"0/1 nodes available: 1 insufficient cpu, 1 insufficient memory"},
		{"no nodes", 0, nil, "0/0 nodes available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diagnosis{Nodes: tc.nodes}
			for r, c := range tc.counts {
				d.Counts[r] = c
			}
			if got := d.Message(); got != tc.want {
				t.Errorf("Message() = %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestScheduleFailureMessage(t *testing.T) {
	nodes := []*api.Node{
		node("small1", capacity("4", "1Gi", "110"), nodeLabel("disk", "ssd")),
		node("small2", capacity("4", "1Gi", "110"), nodeLabel("disk", "ssd")),
		node("small3", capacity("4", "1Gi", "110"), nodeLabel("disk", "ssd")),
		node("hdd1"), node("hdd2"),
	}
	snap := NewSnapshotFrom(nodes, nil)
	res := newTestPipeline(t, PipelineConfig{}).Schedule(snap, mustPodInfo(t, pod("p", req("1", "2Gi"), nodeSelector("disk", "ssd"))))
	if res.Fits() {
		t.Fatalf("scheduled on %s", res.Node)
	}
	want := "0/5 nodes available: 3 insufficient memory, 2 node(s) didn't match Pod's node affinity/selector"
	if got := res.Diagnosis.Message(); got != want {
		t.Errorf("message %q\n want %q", got, want)
	}
	if res.Examined != 5 {
		t.Errorf("examined %d nodes, want 5", res.Examined)
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 50, 50},     // under the minimum: all
		{0, 99, 99},     // still under
		{0, 100, 100},   // adaptive 50% of 100 = 50, raised to the minimum
		{0, 1000, 420},  // 50 - 8 = 42%
		{0, 5000, 500},  // 50 - 40 = 10%
		{0, 10000, 500}, // 50 - 80 < 5: 5%
		{10, 500, 100},  // 50 nodes, raised to the minimum
		{30, 1000, 300},
		{100, 5000, 5000},
	} {
		want := tc.want
		if tc.nodes >= minFeasibleNodesToFind {
			want = max(want, minFeasibleNodesToFind)
		}
		if got := numFeasibleNodesToFind(tc.pct, tc.nodes); got != want {
			t.Errorf("numFeasibleNodesToFind(%d%%, %d) = %d, want %d", tc.pct, tc.nodes, got, want)
		}
	}
}

func TestSamplingStopsAtEnoughFeasibleNodes(t *testing.T) {
	nodes := zonedNodes(1000, []string{"z1", "z2", "z3"})
	snap := NewSnapshotFrom(nodes, nil)
	for _, tc := range []struct {
		pct  int32
		want int
	}{{0, 420}, {10, 100}, {50, 500}, {100, 1000}} {
		t.Run(fmt.Sprintf("%d%%", tc.pct), func(t *testing.T) {
			p := newTestPipeline(t, PipelineConfig{PercentageOfNodesToScore: tc.pct})
			res := p.Schedule(snap, mustPodInfo(t, pod("p", req("100m", "100Mi"))))
			if !res.Fits() || res.Feasible != tc.want || res.Examined != tc.want {
				t.Errorf("fits %v, feasible %d, examined %d; want %d of each", res.Fits(), res.Feasible, res.Examined, tc.want)
			}
			// The next pod starts where this one stopped.
			if p.nextStart != tc.want%1000 {
				t.Errorf("next start %d, want %d", p.nextStart, tc.want%1000)
			}
		})
	}
}

func TestSamplingExaminesEveryNodeWhenFewFit(t *testing.T) {
	nodes := zonedNodes(1000, []string{"z1", "z2", "z3"}, capacity("1", "4Gi", "110"))
	for i := 0; i < 1000; i += 100 {
		nodes[i] = node(nodes[i].Name, zone("z1")) // 10 big nodes
	}
	snap := NewSnapshotFrom(nodes, nil)
	p := newTestPipeline(t, PipelineConfig{})

	res := p.Schedule(snap, mustPodInfo(t, pod("p", req("2", "1Gi"))))
	if !res.Fits() || res.Feasible != 10 || res.Examined != 1000 {
		t.Errorf("fits %v, feasible %d, examined %d; want 10 feasible of 1000 examined", res.Fits(), res.Feasible, res.Examined)
	}

	res = p.Schedule(snap, mustPodInfo(t, pod("p", req("8", "1Gi"))))
	if res.Fits() || res.Examined != 1000 {
		t.Fatalf("fits %v, examined %d; want no fit after examining all 1000", res.Fits(), res.Examined)
	}
	if got, want := res.Diagnosis.Message(), "0/1000 nodes available: 1000 insufficient cpu"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestSelectHighestScoreAndBreakTiesRandomly(t *testing.T) {
	nodes := zonedNodes(10, []string{"z1"})
	existing := make([]*api.Pod, 0, 9)
	for i := 1; i < 10; i++ {
		existing = append(existing, pod(fmt.Sprintf("e%d", i), req("1", "1Gi"), onNode(nodes[i].Name)))
	}
	p := newTestPipeline(t, PipelineConfig{})
	pi := mustPodInfo(t, pod("p", req("100m", "100Mi")))

	busy := NewSnapshotFrom(nodes, existing)
	for range 20 {
		if res := p.Schedule(busy, pi); res.Node != "n0" {
			t.Fatalf("chose %s, want the only empty node n0", res.Node)
		}
	}
	idle := NewSnapshotFrom(nodes, nil)
	chosen := map[string]bool{}
	for range 200 {
		chosen[p.Schedule(idle, pi).Node] = true
	}
	if len(chosen) < 8 {
		t.Errorf("ties between 10 identical nodes went to only %d of them", len(chosen))
	}
}

func TestNewPipelineRejectsBadConfig(t *testing.T) {
	for _, cfg := range []PipelineConfig{{Scoring: "Balanced"}, {PercentageOfNodesToScore: 101}, {PercentageOfNodesToScore: -1}} {
		if _, err := NewPipeline(cfg); err == nil {
			t.Errorf("NewPipeline(%+v) accepted", cfg)
		}
	}
}

func TestMostAllocatedPacks(t *testing.T) {
	nodes := zonedNodes(4, []string{"z1"})
	snap := NewSnapshotFrom(nodes, []*api.Pod{pod("e", req("2", "8Gi"), onNode("n2"))})
	p := newTestPipeline(t, PipelineConfig{Scoring: MostAllocated})
	if res := p.Schedule(snap, mustPodInfo(t, pod("p", req("1", "1Gi")))); res.Node != "n2" {
		t.Errorf("MostAllocated chose %s, want the busy n2", res.Node)
	}
}

func TestWeightsCanDisableScorers(t *testing.T) {
	p := newTestPipeline(t, PipelineConfig{Weights: Weights{Taints: -1, PodAffinity: -1}})
	for _, st := range p.scores {
		if st.name == "TaintToleration" || st.name == "PodAffinity" {
			t.Errorf("scorer %s still enabled", st.name)
		}
	}
	if len(p.scores) != 5 {
		t.Errorf("%d scorers enabled, want 5", len(p.scores))
	}
}

// TestScheduleAllocatesNothingPerNode pins the hot loop's promise: the
// allocations of one cycle do not grow with the number of nodes.
func TestScheduleAllocatesNothingPerNode(t *testing.T) {
	nodes := zonedNodes(2000, []string{"z1", "z2", "z3"})
	existing := []*api.Pod{pod("e", podLabels("app", "web"), onNode("n1"), requiredAntiAffinity(term(api.LabelHostname, "app", "other")))}
	snap := NewSnapshotFrom(nodes, existing)
	for _, tc := range []struct {
		name string
		pod  *api.Pod
		max  float64
	}{
		{"plain", pod("p", req("100m", "100Mi")), 0},
		{"spread, affinity, owner", pod("p", req("100m", "100Mi"), podLabels("app", "web"), ownedBy("rs"),
			spread(1, api.LabelZone, api.DoNotSchedule, "app", "web"),
			spread(1, api.LabelHostname, api.ScheduleAnyway, "app", "web"),
			requiredAntiAffinity(term(api.LabelHostname, "app", "db")),
			preferredAntiAffinity(10, term(api.LabelHostname, "app", "web")),
			preferredNodeTerm(5, expr(api.LabelZone, api.SelectorOpIn, "z1"))), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestPipeline(t, PipelineConfig{PercentageOfNodesToScore: 100})
			pi := mustPodInfo(t, tc.pod)
			p.Schedule(snap, pi) // warm: buffers, index groups, domain tables
			allocs := testing.AllocsPerRun(20, func() { p.Schedule(snap, pi) })
			t.Logf("%v allocations per cycle", allocs)
			if allocs > tc.max {
				t.Errorf("%v allocations per cycle over 2000 nodes, want at most %v", allocs, tc.max)
			}
		})
	}
}
