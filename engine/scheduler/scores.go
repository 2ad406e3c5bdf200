package scheduler

// The scorers. Each returns a raw score (higher is better) for one
// feasible node; the pipeline normalizes the raw scores of all feasible
// nodes to 0..MaxNodeScore and adds them up with the configured weights.

// Compile-time checks.
var (
	_ Scorer = leastAllocatedScorer{}
	_ Scorer = mostAllocatedScorer{}
	_ Scorer = ownerSpreadNodeScorer{}
	_ Scorer = ownerSpreadZoneScorer{}
	_ Scorer = topologySpreadScorer{}
	_ Scorer = nodeAffinityScorer{}
	_ Scorer = podAffinityScorer{}
	_ Scorer = taintScorer{}
)

// leastAllocatedScorer prefers nodes with the largest share of cpu and
// memory left after placing the pod: it spreads load (the default).
type leastAllocatedScorer struct{}

func (leastAllocatedScorer) Score(s *CycleState, n *NodeInfo) int64 {
	cpu := freeShare(n.allocCPU, n.nonZeroCPU+s.pod.NonZeroCPU)
	mem := freeShare(n.allocMemory, n.nonZeroMemory+s.pod.NonZeroMemory)
	return (cpu + mem) / 2
}

// mostAllocatedScorer prefers the fullest nodes: bin packing, so that
// empty nodes can be scaled away.
type mostAllocatedScorer struct{}

func (mostAllocatedScorer) Score(s *CycleState, n *NodeInfo) int64 {
	cpu := MaxNodeScore - freeShare(n.allocCPU, n.nonZeroCPU+s.pod.NonZeroCPU)
	mem := MaxNodeScore - freeShare(n.allocMemory, n.nonZeroMemory+s.pod.NonZeroMemory)
	return (cpu + mem) / 2
}

// freeShare is the percentage of alloc left once used is taken.
func freeShare(alloc, used int64) int64 {
	if alloc <= 0 || used >= alloc {
		return 0
	}
	return (alloc - used) * MaxNodeScore / alloc
}

// ownerSpreadNodeScorer prefers nodes running fewer pods of the pod's
// controller, so that replicas of a deployment spread by default.
type ownerSpreadNodeScorer struct{}

func (ownerSpreadNodeScorer) Score(s *CycleState, n *NodeInfo) int64 {
	return -int64(s.owner.perNode[n.slot])
}

// ownerSpreadZoneScorer prefers zones running fewer pods of the pod's
// controller. Nodes without a zone label count as an empty zone.
type ownerSpreadZoneScorer struct{}

func (ownerSpreadZoneScorer) Score(s *CycleState, n *NodeInfo) int64 {
	c, _ := s.ownerZone.at(n)
	return -int64(c)
}

// topologySpreadScorer applies ScheduleAnyway constraints: fewer matching
// pods in the node's domain is better; a node without the key is worse
// than every domain.
type topologySpreadScorer struct{}

func (topologySpreadScorer) Score(s *CycleState, n *NodeInfo) int64 {
	var sum int64
	for i := range s.softSpread {
		c := &s.softSpread[i]
		if id := c.table.domain(n); id >= 0 {
			sum += int64(c.counts[id])
		} else {
			sum += int64(c.maxCount) + 1
		}
	}
	return -sum
}

// nodeAffinityScorer sums the weights of the preferred node terms a node
// matches.
type nodeAffinityScorer struct{}

func (nodeAffinityScorer) Score(s *CycleState, n *NodeInfo) int64 {
	var sum int64
	for i := range s.pod.PreferredNodeTerms {
		t := &s.pod.PreferredNodeTerms[i]
		if t.term.matches(n) {
			sum += t.weight
		}
	}
	return sum
}

// podAffinityScorer weighs the matching pods in the node's domains: the
// pod's preferred affinity attracts, its preferred anti-affinity repels,
// and existing pods' preferred terms that select it count the same way.
type podAffinityScorer struct{}

func (podAffinityScorer) Score(s *CycleState, n *NodeInfo) int64 {
	var sum int64
	for i := range s.preferredOwn {
		t := &s.preferredOwn[i]
		if c, ok := t.at(n); ok {
			sum += t.weight * int64(c)
		}
	}
	for i := range s.preferredCarried {
		t := &s.preferredCarried[i]
		if id := t.table.domain(n); id >= 0 {
			sum += t.sign * t.counts[id]
		}
	}
	return sum
}

// taintScorer prefers nodes with fewer PreferNoSchedule taints the pod
// does not tolerate.
type taintScorer struct{}

func (taintScorer) Score(s *CycleState, n *NodeInfo) int64 {
	var untolerated int64
	for i := range n.preferTaints {
		if !tolerates(s.pod.Pod.Spec.Tolerations, &n.preferTaints[i]) {
			untolerated++
		}
	}
	return -untolerated
}

// normalize maps raw scores in place to 0..MaxNodeScore.
func normalize(scores []int64, norm normalization) {
	if norm == absolute || len(scores) == 0 {
		return
	}
	lo, hi := scores[0], scores[0]
	for _, v := range scores[1:] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if lo == hi {
		clear(scores)
		return
	}
	span := hi - lo
	for i, v := range scores {
		scores[i] = (v - lo) * MaxNodeScore / span
	}
}
