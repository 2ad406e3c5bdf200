package scheduler

import (
	"math"

	"github.com/maestro-dev/maestro/engine/api"
)

// CycleState is everything about the pod being scheduled that does not
// depend on the node, computed once per cycle by PreFilter and read by
// every filter and scorer for every node. Its slices are reused from cycle
// to cycle, so a cycle allocates little beyond the maps it must build.
type CycleState struct {
	pod  *PodInfo
	snap *Snapshot

	hardSpread []spreadState
	softSpread []spreadState

	// affinitySelf is true when no pod matches the pod's required
	// affinity terms yet and the pod matches them itself: the first
	// replica of a group with affinity to itself may go anywhere that has
	// the topology keys.
	affinitySelf bool
	reqAffinity  []domainCounts
	reqAnti      []domainCounts
	// symAnti are the required anti-affinity terms of existing pods that
	// select this pod: it may not join their domains.
	symAnti []carriedCounts

	// preferred pod (anti-)affinity: the pod's own terms (weight negative
	// for anti-affinity) and existing pods' terms that select it.
	preferredOwn     []domainCounts
	preferredCarried []carriedCounts

	// owner counts the pods of the same controller (selector spread);
	// ownerZone is nil when the nodes have no zones.
	owner     *podGroup
	ownerZone *keyCounts

	// eligible marks, by slot, nodes that pass the pod's node affinity
	// (used to count spread domains when the pod has node affinity).
	eligible []bool

	// volNode is the node holding the pod's persistent volumes ("" when
	// none is placed yet); volBlocked rules out every node (a volume being
	// deleted, volumes on two nodes); volDetail says which volume and
	// where, for the failure message.
	volNode    string
	volBlocked bool
	volDetail  string
}

// spreadState is one topology spread constraint with its domain counts.
type spreadState struct {
	table     *domainTable
	maxSkew   int32
	selfMatch int32
	counts    []int32 // by domain id
	// minCount is the smallest count over eligible domains; maxCount the
	// largest (a soft constraint scores nodes without the key as worse
	// than any domain).
	minCount, maxCount int32
}

// domainCounts is a term's pod counts per domain of its topology key.
type domainCounts struct {
	*keyCounts
	weight int64
}

// carriedCounts is an existing pods' term that selects the pod.
type carriedCounts struct {
	table  *domainTable
	sign   int64
	counts []int64 // by domain id
}

// Pod returns the pod being scheduled.
func (s *CycleState) Pod() *PodInfo { return s.pod }

// PreFilter computes the per-pod state. It never rejects: whether a pod
// fits is for the filters to say per node.
func (s *CycleState) PreFilter(snap *Snapshot, pi *PodInfo) {
	s.pod, s.snap = pi, snap
	s.hardSpread, s.softSpread = s.hardSpread[:0], s.softSpread[:0]
	s.reqAffinity, s.reqAnti, s.symAnti = s.reqAffinity[:0], s.reqAnti[:0], s.symAnti[:0]
	s.preferredOwn, s.preferredCarried = s.preferredOwn[:0], s.preferredCarried[:0]
	s.affinitySelf = false
	s.owner, s.ownerZone = nil, nil

	idx := snap.index
	s.preFilterVolumes(snap, pi)
	s.preFilterSpread(snap, pi)
	s.preFilterAffinity(idx, pi)
	if pi.OwnerUID != "" {
		s.owner = idx.owner(pi.OwnerUID)
		if zones := s.owner.counts(snap, api.LabelZone); len(zones.table.names) > 1 {
			s.ownerZone = zones
		}
	}
}

func (s *CycleState) preFilterSpread(snap *Snapshot, pi *PodInfo) {
	if len(pi.Spread) == 0 {
		return
	}
	if pi.NodeAffinity != nil {
		s.eligible = s.eligible[:0]
		for _, n := range snap.nodes {
			s.eligible = append(s.eligible, pi.NodeAffinity.Matches(n))
		}
	}
	for i := range pi.Spread {
		c := &pi.Spread[i]
		g := snap.index.group(c.group, c.namespaces, c.Selector)
		st := spreadState{table: snap.table(c.TopologyKey), maxSkew: c.MaxSkew, selfMatch: c.SelfMatch}
		if pi.NodeAffinity == nil {
			// Every node with the key is eligible, so every domain is, and
			// the index's counts are exactly the counts to compare.
			st.counts = g.counts(snap, c.TopologyKey).counts
			st.minCount, st.maxCount = minMax(st.counts, nil)
		} else {
			// Kubernetes counts only pods on nodes that pass the pod's
			// node affinity, over the domains those nodes form.
			st.counts = make([]int32, len(st.table.names))
			seen := make([]bool, len(st.table.names))
			for slot, ok := range s.eligible {
				if id := st.table.ofSlot[slot]; ok && id >= 0 {
					st.counts[id] += g.perNode[slot]
					seen[id] = true
				}
			}
			st.minCount, st.maxCount = minMax(st.counts, seen)
		}
		if c.Hard {
			s.hardSpread = append(s.hardSpread, st)
		} else {
			s.softSpread = append(s.softSpread, st)
		}
	}
}

// minMax returns the smallest and largest count over the domains (those
// marked in eligible, or all when it is nil); 0, 0 when there are none.
func minMax(counts []int32, eligible []bool) (lo, hi int32) {
	lo = math.MaxInt32
	for id, c := range counts {
		if eligible == nil || eligible[id] {
			lo = min(lo, c)
			hi = max(hi, c)
		}
	}
	if lo == math.MaxInt32 {
		return 0, 0
	}
	return lo, hi
}

func (s *CycleState) preFilterAffinity(idx *topologyIndex, pi *PodInfo) {
	snap := idx.snap
	if len(pi.RequiredAffinity) > 0 {
		anyMatch, selfMatch := false, true
		for i := range pi.RequiredAffinity {
			t := &pi.RequiredAffinity[i]
			g := idx.group(t.group, t.Namespaces, t.Selector)
			anyMatch = anyMatch || g.total > 0
			selfMatch = selfMatch && t.Matches(pi)
			s.reqAffinity = append(s.reqAffinity, domainCounts{keyCounts: g.counts(snap, t.TopologyKey)})
		}
		s.affinitySelf = !anyMatch && selfMatch
	}
	for i := range pi.RequiredAntiAffinity {
		t := &pi.RequiredAntiAffinity[i]
		g := idx.group(t.group, t.Namespaces, t.Selector)
		s.reqAnti = append(s.reqAnti, domainCounts{keyCounts: g.counts(snap, t.TopologyKey)})
	}
	for _, ct := range idx.requiredAnti {
		if ct.term.Matches(pi) {
			s.symAnti = append(s.symAnti, carriedCounts{table: ct.table, sign: 1, counts: ct.perDomain})
		}
	}
	for i := range pi.PreferredAffinity {
		t := &pi.PreferredAffinity[i]
		g := idx.group(t.group, t.Namespaces, t.Selector)
		s.preferredOwn = append(s.preferredOwn, domainCounts{keyCounts: g.counts(snap, t.TopologyKey), weight: t.Weight})
	}
	for i := range pi.PreferredAntiAffinity {
		t := &pi.PreferredAntiAffinity[i]
		g := idx.group(t.group, t.Namespaces, t.Selector)
		s.preferredOwn = append(s.preferredOwn, domainCounts{keyCounts: g.counts(snap, t.TopologyKey), weight: -t.Weight})
	}
	for _, ct := range idx.preferredAff {
		if ct.term.Matches(pi) {
			s.preferredCarried = append(s.preferredCarried, carriedCounts{table: ct.table, sign: 1, counts: ct.perDomain})
		}
	}
	for _, ct := range idx.preferredAnti {
		if ct.term.Matches(pi) {
			s.preferredCarried = append(s.preferredCarried, carriedCounts{table: ct.table, sign: -1, counts: ct.perDomain})
		}
	}
}
