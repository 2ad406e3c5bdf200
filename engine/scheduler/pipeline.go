package scheduler

import (
	"cmp"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Scoring strategies for the resource scorer.
const (
	LeastAllocated = "LeastAllocated"
	MostAllocated  = "MostAllocated"
)

// Sampling bounds, as in Kubernetes: below minFeasibleNodesToFind nodes
// every node is examined; the adaptive percentage never drops below
// minFeasibleNodesPercentageToFind.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// Weights of the scorers in the total. Zero means the default; a negative
// weight turns the scorer off.
type Weights struct {
	Resources      int64 // least/most allocated (default 1)
	SelectorSpread int64 // replicas of one controller: nodes get this weight, zones twice it (default 1)
	TopologySpread int64 // ScheduleAnyway constraints (default 2)
	NodeAffinity   int64 // preferred node affinity (default 2)
	PodAffinity    int64 // preferred pod affinity and anti-affinity (default 2)
	Taints         int64 // PreferNoSchedule taints (default 3)
}

// DefaultWeights are Kubernetes' default plugin weights.
var DefaultWeights = Weights{Resources: 1, SelectorSpread: 1, TopologySpread: 2, NodeAffinity: 2, PodAffinity: 2, Taints: 3}

// PipelineConfig configures a Pipeline.
type PipelineConfig struct {
	// PercentageOfNodesToScore bounds the feasible nodes searched for, as
	// a percentage of all nodes; 0 adapts it to the cluster size.
	PercentageOfNodesToScore int32
	// Scoring is LeastAllocated (default) or MostAllocated.
	Scoring string
	Weights Weights
	// Seed seeds the tie-breaking random numbers; 0 picks a random seed.
	Seed uint64
}

// Pipeline runs the scheduling algorithm for one pod at a time: PreFilter,
// filter (sampled), score, select. It keeps its buffers between pods, so
// it is not safe for concurrent use; use one per goroutine.
type Pipeline struct {
	filters    []filterStage
	scores     []scoreStage
	percentage int32
	rng        *rand.Rand

	state     CycleState
	nextStart int
	active    []Filter
	feasible  []*NodeInfo
	raw       []int64
	total     []int64
}

// withDefaults fills zero weights with DefaultWeights.
func (w Weights) withDefaults() Weights {
	def := func(v, d int64) int64 {
		if v == 0 {
			return d
		}
		return v
	}
	return Weights{
		Resources:      def(w.Resources, DefaultWeights.Resources),
		SelectorSpread: def(w.SelectorSpread, DefaultWeights.SelectorSpread),
		TopologySpread: def(w.TopologySpread, DefaultWeights.TopologySpread),
		NodeAffinity:   def(w.NodeAffinity, DefaultWeights.NodeAffinity),
		PodAffinity:    def(w.PodAffinity, DefaultWeights.PodAffinity),
		Taints:         def(w.Taints, DefaultWeights.Taints),
	}
}

func resourceScorer(strategy string) (Scorer, error) {
	switch strategy {
	case "", LeastAllocated:
		return leastAllocatedScorer{}, nil
	case MostAllocated:
		return mostAllocatedScorer{}, nil
	}
	return nil, fmt.Errorf("scheduler: unknown scoring strategy %q (want %s or %s)", strategy, LeastAllocated, MostAllocated)
}

// NewPipeline composes the filters and scorers.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	resources, err := resourceScorer(cfg.Scoring)
	if err != nil {
		return nil, err
	}
	if cfg.PercentageOfNodesToScore < 0 || cfg.PercentageOfNodesToScore > 100 {
		return nil, fmt.Errorf("scheduler: percentageOfNodesToScore %d is not within 0..100", cfg.PercentageOfNodesToScore)
	}
	w := cfg.Weights.withDefaults()
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	p := &Pipeline{percentage: cfg.PercentageOfNodesToScore, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}

	p.filters = []filterStage{
		// Readiness first: a node that cannot run anything should be
		// reported as not ready, not as short of memory.
		{"NodeReady", nodeReadyFilter{}, never},
		// A node without a pod network is as unusable to a pod that
		// needs one; a hostNetwork pod does not.
		{"NodeNetwork", nodeNetworkFilter{}, func(s *CycleState) bool { return s.pod.Pod.Spec.HostNetwork }},
		// Persistent volumes pin a pod to the node holding their data:
		// every other node is out whatever else it offers, and saying
		// so is the one answer that helps ("insufficient memory" on a
		// node the pod can never use would mislead).
		{"Volumes", volumeFilter{}, func(s *CycleState) bool { return s.volNode == "" && !s.volBlocked }},
		// The user's explicit placement (selector, affinity) next: when it
		// excludes a node, that is the explanation users expect to read.
		{"NodeAffinity", nodeAffinityFilter{}, func(s *CycleState) bool { return s.pod.NodeAffinity == nil }},
		// Taints are the operator's explicit exclusion, as cheap to check.
		{"TaintToleration", taintFilter{}, never},
		// Resources: integer compares, and the most common real rejection.
		{"ResourceFit", resourceFitFilter{}, never},
		// Host ports: rare, a short scan when present.
		{"HostPorts", hostPortFilter{}, func(s *CycleState) bool { return len(s.pod.HostPorts) == 0 }},
		// Inter-pod rules last, as in Kubernetes: they are about where
		// other pods are, which only matters on nodes that could run the
		// pod at all, and "insufficient memory" is the better answer
		// when both apply.
		{"PodAffinity", podAffinityFilter{}, func(s *CycleState) bool {
			return len(s.reqAffinity)+len(s.reqAnti)+len(s.symAnti) == 0
		}},
		{"TopologySpread", topologySpreadFilter{}, func(s *CycleState) bool { return len(s.hardSpread) == 0 }},
	}

	stages := []scoreStage{
		// Free capacity is already a percentage, the same on every node,
		// so it is not stretched over the feasible nodes (absolute).
		{"Resources", resources, w.Resources, absolute, never},
		// Replicas of one controller spread over nodes and, twice as
		// strongly, over zones (Kubernetes' SelectorSpread 1/3 : 2/3).
		{"SelectorSpreadNode", ownerSpreadNodeScorer{}, w.SelectorSpread, relative, func(s *CycleState) bool { return s.owner == nil }},
		{"SelectorSpreadZone", ownerSpreadZoneScorer{}, 2 * w.SelectorSpread, relative, func(s *CycleState) bool {
			return s.ownerZone == nil
		}},
		// The pod's own soft wishes: ScheduleAnyway spread, preferred
		// node and pod affinity, each relative to the feasible nodes.
		{"TopologySpread", topologySpreadScorer{}, w.TopologySpread, relative, func(s *CycleState) bool { return len(s.softSpread) == 0 }},
		{"NodeAffinity", nodeAffinityScorer{}, w.NodeAffinity, relative, func(s *CycleState) bool { return len(s.pod.PreferredNodeTerms) == 0 }},
		{"PodAffinity", podAffinityScorer{}, w.PodAffinity, relative, func(s *CycleState) bool {
			return len(s.preferredOwn)+len(s.preferredCarried) == 0
		}},
		// The operator's soft exclusion weighs most, as in Kubernetes.
		{"TaintToleration", taintScorer{}, w.Taints, relative, func(s *CycleState) bool { return s.snap.preferTaintNodes == 0 }},
	}
	for _, st := range stages {
		if st.weight > 0 {
			p.scores = append(p.scores, st)
		}
	}
	return p, nil
}

// Result is the outcome of scheduling one pod. A pod that fits nowhere is
// a Result with an empty Node and a Diagnosis, not an error.
type Result struct {
	// Node is the chosen node, "" when the pod fits nowhere.
	Node string
	// Feasible is the number of feasible nodes found (the sample scored);
	// Examined the number of nodes filtered to find them.
	Feasible, Examined int
	// Diagnosis counts the rejections; complete (every node examined)
	// when Node is "".
	Diagnosis Diagnosis
}

// Fits reports whether a node was chosen.
func (r Result) Fits() bool { return r.Node != "" }

// Diagnosis counts, per reason, the nodes that rejected the pod for it.
type Diagnosis struct {
	Nodes  int
	Counts [numReasons]int
	// Volumes says where the pod's volumes are when they ruled nodes out
	// (`volume "data" is on node "node-2"`).
	Volumes string
}

// add counts a rejection.
func (d *Diagnosis) add(st Status) {
	for v := uint32(st); v != 0; v &= v - 1 {
		d.Counts[bits.TrailingZeros32(v)]++
	}
}

// Reasons is the union of the reasons seen.
func (d *Diagnosis) Reasons() Status {
	var st Status
	for r, c := range d.Counts {
		if c > 0 {
			st = st.With(Reason(r))
		}
	}
	return st
}

// Message renders the diagnosis as users read it: "0/5 nodes available:
// 3 insufficient memory, 2 node(s) didn't match Pod's node affinity/selector",
// reasons by count descending, then alphabetically.
func (d *Diagnosis) Message() string {
	type entry struct {
		n    int
		text string
	}
	var es []entry
	for r, c := range d.Counts {
		if c > 0 {
			es = append(es, entry{c, Reason(r).String()})
		}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.text, b.text)
	})
	var b strings.Builder
	b.WriteString("0/")
	b.WriteString(strconv.Itoa(d.Nodes))
	b.WriteString(" nodes available")
	for i, e := range es {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(e.n))
		b.WriteByte(' ')
		b.WriteString(e.text)
	}
	if d.Volumes != "" && d.Counts[ReasonVolume] > 0 {
		b.WriteString("; ")
		b.WriteString(d.Volumes)
	}
	return b.String()
}

// numFeasibleNodesToFind is how many feasible nodes to look for before
// scoring: all of them in small clusters, a shrinking share in big ones,
// since the best of a few hundred random feasible nodes is nearly as good
// as the best of all and filtering is most of the cost.
func numFeasibleNodesToFind(percentage int32, numNodes int) int {
	if numNodes < minFeasibleNodesToFind || percentage >= 100 {
		return numNodes
	}
	pct := int(percentage)
	if pct <= 0 {
		pct = max(50-numNodes/125, minFeasibleNodesPercentageToFind)
	}
	return max(numNodes*pct/100, minFeasibleNodesToFind)
}

// Schedule picks a node for pi in snap.
func (p *Pipeline) Schedule(snap *Snapshot, pi *PodInfo) Result {
	n := len(snap.nodes)
	if n == 0 {
		return Result{}
	}
	st := &p.state
	st.PreFilter(snap, pi)

	p.active = p.active[:0]
	for _, f := range p.filters {
		if !f.skip(st) {
			p.active = append(p.active, f.filter)
		}
	}
	feasible, examined, diag := p.findFeasible(snap, st)
	if len(feasible) == 0 {
		diag.Nodes = n
		diag.Volumes = st.volDetail
		return Result{Examined: examined, Diagnosis: diag}
	}
	res := Result{Feasible: len(feasible), Examined: examined}
	if len(feasible) == 1 {
		res.Node = feasible[0].Name
		return res
	}
	res.Node = feasible[p.selectHost(st, feasible)].Name
	return res
}

// findFeasible filters nodes from a rotating start until it has found
// enough feasible ones or examined every node.
func (p *Pipeline) findFeasible(snap *Snapshot, st *CycleState) ([]*NodeInfo, int, Diagnosis) {
	n := len(snap.nodes)
	want := numFeasibleNodesToFind(p.percentage, n)
	feasible := p.feasible[:0]
	var diag Diagnosis
	start := p.nextStart % n
	examined := 0
	filters := p.active
	for examined < n && len(feasible) < want {
		i := start + examined
		if i >= n {
			i -= n
		}
		node := snap.nodes[i]
		examined++
		var status Status
		for _, f := range filters {
			if status = f.Filter(st, node); status != 0 {
				break
			}
		}
		if status == 0 {
			feasible = append(feasible, node)
		} else {
			diag.add(status)
		}
	}
	// The next pod starts where this one stopped, so consecutive pods
	// sample different nodes and load spreads over the whole cluster.
	p.nextStart = (start + examined) % n
	p.feasible = feasible
	return feasible, examined, diag
}

// selectHost scores the feasible nodes and returns the index of the best,
// breaking ties uniformly at random (reservoir sampling, one pass).
func (p *Pipeline) selectHost(st *CycleState, feasible []*NodeInfo) int {
	k := len(feasible)
	p.total = grow(p.total, k)
	p.raw = grow(p.raw, k)
	total, raw := p.total, p.raw
	clear(total)
	for _, sc := range p.scores {
		if sc.skip(st) {
			continue
		}
		for i, node := range feasible {
			raw[i] = sc.scorer.Score(st, node)
		}
		normalize(raw, sc.norm)
		for i, v := range raw {
			total[i] += v * sc.weight
		}
	}
	best, ties := 0, 1
	for i := 1; i < k; i++ {
		switch {
		case total[i] > total[best]:
			best, ties = i, 1
		case total[i] == total[best]:
			ties++
			if p.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

func grow(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	return s[:n]
}
