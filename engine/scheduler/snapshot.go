package scheduler

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// Snapshot is a consistent, read-only view of the cluster for one
// scheduling cycle: the registered nodes with what is allocated on them,
// and the topology index over their pods. The scheduling loop keeps one
// Snapshot and refreshes it with Cache.UpdateSnapshot before each cycle,
// which copies only the nodes that changed since (a generation number
// tells which) and replays the pod changes into the index.
//
// A Snapshot is not safe for concurrent use; Preview works on a private
// copy so that callers can share one.
type Snapshot struct {
	// nodes is the list filters walk, interleaved by zone so that a
	// sampled run of consecutive nodes covers every zone.
	nodes  []*NodeInfo
	byName map[string]*NodeInfo

	generation  int64 // cache generation this view reflects
	treeVersion int64 // cache node-set/labels version
	logSeq      int64 // next cache pod-change log entry to replay
	index       *topologyIndex

	// tables interns, per topology key, the domain of every node.
	tables map[string]*domainTable
	// preferTaintNodes counts nodes with PreferNoSchedule taints, so the
	// taint scorer is skipped in clusters that have none.
	preferTaintNodes int
	// shared marks nodes a preview copy still shares with its source and
	// must clone before changing.
	shared   []bool
	deltaBuf []podDelta

	// volumes says where Volumes live (nil: nowhere known, so volumes tie
	// no pod to a node); previewVolumes holds the placements a preview
	// assumed for volumes its pods would create.
	volumes        *VolumeBook
	previewVolumes map[string]string
}

// NumNodes is the number of registered nodes in the view.
func (s *Snapshot) NumNodes() int { return len(s.nodes) }

// Nodes returns the nodes in the order filters visit them (shared: do not
// modify).
func (s *Snapshot) Nodes() []*NodeInfo { return s.nodes }

// Get returns a node by name, or nil.
func (s *Snapshot) Get(name string) *NodeInfo { return s.byName[name] }

// NewSnapshotFrom builds a snapshot from plain lists, as the API server's
// dry run does: every node, and the pods bound to them (unbound and
// finished pods are ignored).
func NewSnapshotFrom(nodes []*api.Node, pods []*api.Pod) *Snapshot {
	c := NewCache(CacheOptions{})
	for _, n := range nodes {
		c.AddNode(n)
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			c.AddPod(p)
		}
	}
	return c.Snapshot()
}

// rebuildList orders the nodes zone by zone, round robin, and numbers
// their slots. Zones and nodes are sorted by name so the order (and so
// every sampled decision) is reproducible.
func (s *Snapshot) rebuildList() {
	byZone := map[string][]*NodeInfo{}
	for _, n := range s.byName {
		z := n.labels[api.LabelZone]
		byZone[z] = append(byZone[z], n)
	}
	zones := make([]string, 0, len(byZone))
	for z, ns := range byZone {
		zones = append(zones, z)
		slices.SortFunc(ns, func(a, b *NodeInfo) int { return cmp.Compare(a.Name, b.Name) })
	}
	slices.Sort(zones)
	s.nodes = s.nodes[:0]
	for i := 0; len(s.nodes) < len(s.byName); i++ {
		for _, z := range zones {
			if ns := byZone[z]; i < len(ns) {
				s.nodes = append(s.nodes, ns[i])
			}
		}
	}
	s.preferTaintNodes = 0
	for i, n := range s.nodes {
		n.slot = i
		if len(n.preferTaints) > 0 {
			s.preferTaintNodes++
		}
	}
	s.tables = nil
	s.shared = nil
}

// replace swaps in a newer copy of a node already in the list.
func (s *Snapshot) replace(n *NodeInfo) {
	old := s.byName[n.Name]
	n.slot = old.slot
	if len(old.preferTaints) > 0 {
		s.preferTaintNodes--
	}
	if len(n.preferTaints) > 0 {
		s.preferTaintNodes++
	}
	s.byName[n.Name] = n
	s.nodes[n.slot] = n
}

// domainTable numbers the values of one topology key (the domains) and
// maps every node slot to its domain, so the per-node checks index slices
// instead of hashing label values. It is immutable once built and valid
// until the node list is rebuilt.
type domainTable struct {
	key    string
	ofSlot []int32  // domain id per node slot; -1 when the node lacks the key
	names  []string // domain value by id
}

// table returns the domain table of a topology key, building it on first use.
func (s *Snapshot) table(key string) *domainTable {
	if t, ok := s.tables[key]; ok {
		return t
	}
	if s.tables == nil {
		s.tables = map[string]*domainTable{}
	}
	t := &domainTable{key: key, ofSlot: make([]int32, len(s.nodes))}
	ids := map[string]int32{}
	for i, n := range s.nodes {
		v, ok := n.labels[key]
		if !ok {
			t.ofSlot[i] = -1
			continue
		}
		id, ok := ids[v]
		if !ok {
			id = int32(len(t.names))
			ids[v] = id
			t.names = append(t.names, v)
		}
		t.ofSlot[i] = id
	}
	s.tables[key] = t
	return t
}

// domain returns node n's domain id under the table's key, or -1.
func (t *domainTable) domain(n *NodeInfo) int32 { return t.ofSlot[n.slot] }

// previewCopy returns a private copy that Preview can place pods on: nodes
// are shared until changed, the topology index is rebuilt.
func (s *Snapshot) previewCopy() *Snapshot {
	c := &Snapshot{
		nodes:            slices.Clone(s.nodes),
		byName:           make(map[string]*NodeInfo, len(s.byName)),
		generation:       s.generation,
		treeVersion:      s.treeVersion,
		preferTaintNodes: s.preferTaintNodes,
		shared:           make([]bool, len(s.nodes)),
		volumes:          s.volumes,
		previewVolumes:   map[string]string{},
	}
	for i, n := range c.nodes {
		c.byName[n.Name] = n
		c.shared[i] = true
	}
	c.index = newTopologyIndex(c)
	return c
}

// place counts an assumed pod on a node of this snapshot (Preview only:
// the scheduling loop assumes pods in the cache, never in its snapshot).
func (s *Snapshot) place(pi *PodInfo, node string) error {
	n := s.byName[node]
	if n == nil {
		return fmt.Errorf("node %q is not in the snapshot", node)
	}
	if s.shared != nil && s.shared[n.slot] {
		n = n.clone()
		s.replace(n)
		s.shared[n.slot] = false
	}
	n.addPod(pi)
	s.index.apply(pi, node, 1)
	for _, name := range pi.Volumes {
		if key := api.Key(pi.Namespace, name); s.volumeWhere(key).node == "" {
			s.previewVolumes[key] = node
		}
	}
	return nil
}
