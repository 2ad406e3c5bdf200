package scheduler

import (
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// topologyIndex keeps the counts that pod affinity, anti-affinity and
// topology spread need, so that checking a pod costs O(domains) instead of
// O(pods in the cluster).
//
// It has two halves:
//
//   - pod groups: for a set of pods named by (namespaces, selector) or by a
//     controller UID, the number of such pods per node and, for each
//     topology key asked about, per domain (zone, hostname...). A group is
//     built by one scan the first time a pod asks about it and then updated
//     on every pod added to or removed from the snapshot, so thousands of
//     replicas asking the same question pay for the scan once. Groups no
//     pod has asked about for a while are dropped.
//   - carried terms: the (anti-)affinity terms existing pods carry, grouped
//     by (namespaces, selector, topology key), with per-domain counts of the
//     pods carrying them. They answer the symmetric questions ("does a pod
//     already running refuse to share a zone with me?") by looking at the
//     few distinct terms instead of every pod. They are always maintained.
//
// The index belongs to one Snapshot and changes only with it: the cache
// logs pod additions and removals, UpdateSnapshot replays them here, and a
// change of node labels or of the node set (which moves pods between
// domains) rebuilds everything instead.
type topologyIndex struct {
	snap *Snapshot
	// cycle counts snapshot updates; groups remember the cycle they were
	// last used in so that unused ones can be evicted.
	cycle int64

	groups map[string]*podGroup // by groupKey(namespaces, selector)
	owners map[string]*podGroup // by controller UID

	requiredAnti  map[string]*carriedTerm
	preferredAff  map[string]*carriedTerm
	preferredAnti map[string]*carriedTerm
}

const (
	// evictEvery and evictAfter are in snapshot updates (scheduling
	// cycles): a group unused for evictAfter cycles is dropped.
	evictEvery = 1024
	evictAfter = 8192
)

// podGroup counts the pods that match a selector (or share an owner).
type podGroup struct {
	namespaces []string
	selector   labels.Selector
	owner      string

	total int32
	// perNode counts by node slot; perKey counts by domain id of a
	// topology key, built on first request per key.
	perNode  []int32
	perKey   map[string]*keyCounts
	lastUsed int64
}

// keyCounts are a group's counts per domain of one topology key.
type keyCounts struct {
	table  *domainTable
	counts []int32 // by domain id
}

// carriedTerm is one distinct term carried by existing pods; perDomain sums
// the carriers' weights (1 for required terms) per domain of its key.
type carriedTerm struct {
	term      AffinityTerm
	carriers  int
	table     *domainTable
	perDomain []int64
}

func newTopologyIndex(s *Snapshot) *topologyIndex {
	idx := &topologyIndex{snap: s}
	idx.reset()
	return idx
}

// reset forgets every group and recounts the carried terms from the
// snapshot's pods.
func (idx *topologyIndex) reset() {
	idx.groups = map[string]*podGroup{}
	idx.owners = map[string]*podGroup{}
	idx.requiredAnti = map[string]*carriedTerm{}
	idx.preferredAff = map[string]*carriedTerm{}
	idx.preferredAnti = map[string]*carriedTerm{}
	for _, n := range idx.snap.nodes {
		for _, pi := range n.pods {
			if pi.hasPodAffinity() {
				idx.carry(pi, n, 1)
			}
		}
	}
}

// tick advances the cycle counter and evicts stale groups now and then.
func (idx *topologyIndex) tick() {
	idx.cycle++
	if idx.cycle%evictEvery != 0 {
		return
	}
	for k, g := range idx.groups {
		if idx.cycle-g.lastUsed > evictAfter {
			delete(idx.groups, k)
		}
	}
	for k, g := range idx.owners {
		if idx.cycle-g.lastUsed > evictAfter {
			delete(idx.owners, k)
		}
	}
}

// apply records a pod added to (delta 1) or removed from (delta -1) a node.
// Pods on nodes outside the snapshot (not registered yet) are not counted:
// they have no labels, so no domain.
func (idx *topologyIndex) apply(pi *PodInfo, node string, delta int32) {
	n := idx.snap.byName[node]
	if n == nil {
		return
	}
	for _, g := range idx.groups {
		if g.matches(pi) {
			g.add(n, delta)
		}
	}
	if pi.OwnerUID != "" {
		if g := idx.owners[pi.OwnerUID]; g != nil {
			g.add(n, delta)
		}
	}
	if pi.hasPodAffinity() {
		idx.carry(pi, n, int64(delta))
	}
}

// carry adds (sign 1) or removes (sign -1) the terms pi carries.
func (idx *topologyIndex) carry(pi *PodInfo, n *NodeInfo, sign int64) {
	for i := range pi.RequiredAntiAffinity {
		idx.carryTerm(idx.requiredAnti, &pi.RequiredAntiAffinity[i], n, sign, 1)
	}
	for i := range pi.PreferredAffinity {
		t := &pi.PreferredAffinity[i]
		idx.carryTerm(idx.preferredAff, t, n, sign, t.Weight)
	}
	for i := range pi.PreferredAntiAffinity {
		t := &pi.PreferredAntiAffinity[i]
		idx.carryTerm(idx.preferredAnti, t, n, sign, t.Weight)
	}
}

func (idx *topologyIndex) carryTerm(m map[string]*carriedTerm, t *AffinityTerm, n *NodeInfo, sign, weight int64) {
	key := t.group + "\x00" + t.TopologyKey
	ct := m[key]
	if ct == nil {
		if sign < 0 {
			return // never counted (its node joined the snapshot later)
		}
		table := idx.snap.table(t.TopologyKey)
		ct = &carriedTerm{term: *t, table: table, perDomain: make([]int64, len(table.names))}
		ct.term.Weight = 0
		m[key] = ct
	}
	ct.carriers += int(sign)
	if id := ct.table.domain(n); id >= 0 {
		ct.perDomain[id] += sign * weight
	}
	if ct.carriers <= 0 {
		delete(m, key)
	}
}

// group returns the counts of pods in nss matching sel, building them on
// first use.
func (idx *topologyIndex) group(key string, nss []string, sel labels.Selector) *podGroup {
	g := idx.groups[key]
	if g == nil {
		g = &podGroup{namespaces: nss, selector: sel}
		idx.fill(g)
		idx.groups[key] = g
	}
	g.lastUsed = idx.cycle
	return g
}

// owner returns the counts of pods controlled by uid.
func (idx *topologyIndex) owner(uid string) *podGroup {
	g := idx.owners[uid]
	if g == nil {
		g = &podGroup{owner: uid}
		idx.fill(g)
		idx.owners[uid] = g
	}
	g.lastUsed = idx.cycle
	return g
}

func (idx *topologyIndex) fill(g *podGroup) {
	g.perNode = make([]int32, len(idx.snap.nodes))
	g.perKey = map[string]*keyCounts{}
	for i, n := range idx.snap.nodes {
		for _, pi := range n.pods {
			if g.matches(pi) {
				g.perNode[i]++
				g.total++
			}
		}
	}
}

func (g *podGroup) matches(pi *PodInfo) bool {
	if g.owner != "" {
		return pi.OwnerUID == g.owner
	}
	return containsNamespace(g.namespaces, pi.Namespace) && g.selector.Matches(pi.Labels)
}

func (g *podGroup) add(n *NodeInfo, delta int32) {
	g.total += delta
	g.perNode[n.slot] += delta
	for _, kc := range g.perKey {
		if id := kc.table.domain(n); id >= 0 {
			kc.counts[id] += delta
		}
	}
}

// counts returns the group's pods per domain of a topology key. The
// counts are the index's own: read them, never write them.
func (g *podGroup) counts(s *Snapshot, key string) *keyCounts {
	if kc, ok := g.perKey[key]; ok {
		return kc
	}
	t := s.table(key)
	kc := &keyCounts{table: t, counts: make([]int32, len(t.names))}
	for slot, c := range g.perNode {
		if id := t.ofSlot[slot]; id >= 0 {
			kc.counts[id] += c
		}
	}
	g.perKey[key] = kc
	return kc
}

// at returns the count in node n's domain, and false when n lacks the key.
func (kc *keyCounts) at(n *NodeInfo) (int32, bool) {
	id := kc.table.ofSlot[n.slot]
	if id < 0 {
		return 0, false
	}
	return kc.counts[id], true
}
