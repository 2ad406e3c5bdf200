package scheduler

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// DefaultAssumeTTL is how long an assumed pod whose binding finished waits
// for the watch to confirm it before the cache gives its resources back.
const DefaultAssumeTTL = 30 * time.Second

// maxDeltaLog bounds the pod-change log between snapshot updates; beyond
// it the log is dropped and the next snapshot rebuilds its index instead.
const maxDeltaLog = 1 << 16

// Cache is the scheduler's in-memory view of nodes and of the pods
// allocated on them, fed by informer events and by the scheduler's own
// assumptions: a pod the scheduler has placed counts on its node at once
// (assumed), before the binding reaches the API and comes back through the
// watch, so the next cycle does not place another pod into the same space.
// An assumed pod is confirmed when the watch shows it bound to that node,
// and expires, giving its space back, if no confirmation arrives within
// the TTL after its binding finished.
//
// Only pods that are not terminal count. All methods are safe for
// concurrent use.
type Cache struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	log *slog.Logger

	nodes map[string]*nodeEntry // registered nodes, and placeholders for pods on unknown ones
	head  *nodeEntry            // most recently changed node first
	pods  map[string]*podEntry  // by namespace/name
	// assumed holds the entries of pods bound only in memory so far.
	assumed map[string]*podEntry

	generation  int64 // bumped on every node change
	treeVersion int64 // bumped when the node set or node labels change

	// deltas logs pod additions and removals for the snapshot's topology
	// index; deltaBase is the sequence number of deltas[0].
	deltas    []podDelta
	deltaBase int64
}

type nodeEntry struct {
	info       *NodeInfo
	prev, next *nodeEntry
}

type podEntry struct {
	info     *PodInfo
	node     string
	assumed  bool
	bound    bool // the binding call finished; the TTL runs from then
	deadline time.Time
}

type podDelta struct {
	pod  *PodInfo
	node string
	add  bool
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	// AssumeTTL defaults to DefaultAssumeTTL.
	AssumeTTL time.Duration
	Log       *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// NewCache returns an empty cache.
func NewCache(o CacheOptions) *Cache {
	if o.AssumeTTL <= 0 {
		o.AssumeTTL = DefaultAssumeTTL
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{
		ttl: o.AssumeTTL, now: o.Now, log: o.Log,
		nodes: map[string]*nodeEntry{}, pods: map[string]*podEntry{}, assumed: map[string]*podEntry{},
	}
}

// AddNode adds or updates a node.
func (c *Cache) AddNode(n *api.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.nodes[n.Name]
	if e == nil {
		e = &nodeEntry{info: newNodeInfo(n.Name)}
		c.nodes[n.Name] = e
	}
	if e.info.setNode(n) {
		c.treeVersion++
	}
	c.touch(e)
}

// UpdateNode records a node's new state.
func (c *Cache) UpdateNode(n *api.Node) { c.AddNode(n) }

// RemoveNode forgets a node. Pods still bound to it keep counting on a
// placeholder until their own deletions arrive, so that a node that comes
// back (or a late pod event) finds consistent totals.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.nodes[name]
	if e == nil || e.info.node == nil {
		return
	}
	c.treeVersion++
	if len(e.info.pods) == 0 {
		c.unlink(e)
		delete(c.nodes, name)
		return
	}
	e.info.node, e.info.labels = nil, nil
	c.touch(e)
}

// AddPod records a pod seen bound through the watch. It confirms an
// assumption of the same pod; a terminal pod is removed instead.
func (c *Cache) AddPod(p *api.Pod) {
	if p.Spec.NodeName == "" {
		return
	}
	if api.IsPodTerminal(p) {
		c.RemovePod(p.Key())
		return
	}
	pi, err := NewPodInfo(p)
	if err != nil {
		c.log.Warn("pod has invalid scheduling terms; counting its resources only", "pod", pi.Key, "err", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.pods[pi.Key]; e != nil {
		if e.node == p.Spec.NodeName && e.info.OwnerUID == pi.OwnerUID && mapsEqual(e.info.Pod.Labels, p.Labels) {
			// A confirmation of our assumption, or a change of status or
			// of metadata nobody schedules by (a pod's scheduling fields
			// are immutable): the counts stay as they are, so the node is
			// not touched and the next snapshot copies nothing.
			e.info = pi
			if e.assumed {
				e.assumed = false
				delete(c.assumed, pi.Key)
			}
			return
		}
		if e.assumed && e.node != p.Spec.NodeName {
			c.log.Warn("pod bound to another node than assumed", "pod", pi.Key, "node", p.Spec.NodeName, "assumed", e.node)
		}
		c.removeFromNode(e.node, pi.Key)
		if e.assumed {
			delete(c.assumed, pi.Key)
		}
	}
	c.pods[pi.Key] = &podEntry{info: pi, node: p.Spec.NodeName}
	c.addToNode(p.Spec.NodeName, pi)
}

// UpdatePod records a bound pod's new state.
func (c *Cache) UpdatePod(p *api.Pod) { c.AddPod(p) }

// RemovePod forgets a pod, bound or assumed. It reports whether the pod was
// counted, that is whether space was freed.
func (c *Cache) RemovePod(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropLocked(key, c.pods[key])
}

// dropLocked removes a counted pod everywhere; false if e is nil.
func (c *Cache) dropLocked(key string, e *podEntry) bool {
	if e == nil {
		return false
	}
	c.removeFromNode(e.node, key)
	delete(c.pods, key)
	delete(c.assumed, key)
	return true
}

// AssumePod counts pi on node before the binding is confirmed.
func (c *Cache) AssumePod(pi *PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.pods[pi.Key]; e != nil {
		return fmt.Errorf("assuming pod %s on %s: already on node %q", pi.Key, node, e.node)
	}
	if e := c.nodes[node]; e == nil || e.info.node == nil {
		return fmt.Errorf("assuming pod %s: node %q is gone", pi.Key, node)
	}
	e := &podEntry{info: pi, node: node, assumed: true}
	c.pods[pi.Key] = e
	c.assumed[pi.Key] = e
	c.addToNode(node, pi)
	return nil
}

// FinishBinding starts the expiry clock of an assumed pod: the binding
// call returned, so the watch should show the pod bound soon.
func (c *Cache) FinishBinding(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.assumed[key]; e != nil {
		e.bound = true
		e.deadline = c.now().Add(c.ttl)
	}
}

// ForgetPod drops an assumption (the binding failed). It reports whether
// space was freed; a pod already confirmed by the watch stays.
func (c *Cache) ForgetPod(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropLocked(key, c.assumed[key])
}

// IsAssumed reports whether a pod is bound in memory only.
func (c *Cache) IsAssumed(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assumed[key] != nil
}

// HasPod reports whether a pod is counted on a node, bound or assumed.
func (c *Cache) HasPod(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pods[key] != nil
}

// CleanupExpired drops assumed pods whose binding finished more than the
// TTL ago without the watch confirming it, and returns their keys.
func (c *Cache) CleanupExpired() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var expired []string
	for key, e := range c.assumed {
		if e.bound && now.After(e.deadline) {
			c.removeFromNode(e.node, key)
			delete(c.pods, key)
			delete(c.assumed, key)
			expired = append(expired, key)
		}
	}
	return expired
}

// NodeInfo returns a copy of a node's current state, or nil (tests, debugging).
func (c *Cache) NodeInfo(name string) *NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.nodes[name]; e != nil {
		return e.info.clone()
	}
	return nil
}

// Snapshot returns a fresh, independent snapshot of the cache.
func (c *Cache) Snapshot() *Snapshot {
	s := &Snapshot{}
	c.updateSnapshot(s, false)
	return s
}

// UpdateSnapshot brings s up to date, copying only what changed since s
// was last updated. It is what the scheduling loop calls once per cycle.
func (c *Cache) UpdateSnapshot(s *Snapshot) { c.updateSnapshot(s, true) }

// updateSnapshot refreshes s. With consume, the pod-change log is
// truncated after s replays it: the scheduling loop's snapshot is the
// log's only reader, and any other snapshot that falls behind rebuilds.
func (c *Cache) updateSnapshot(s *Snapshot, consume bool) {
	c.mu.Lock()
	rebuild := s.byName == nil || s.treeVersion != c.treeVersion
	if !rebuild {
		for e := c.head; e != nil && e.info.generation > s.generation; e = e.next {
			// Placeholders are not in the view; a placeholder becoming a
			// node bumps treeVersion, so it never needs a copy here.
			if e.info.node == nil {
				continue
			}
			if s.byName[e.info.Name] == nil {
				rebuild = true // cannot happen while treeVersion is right; be safe
				break
			}
			s.replace(e.info.clone())
		}
	}
	if rebuild {
		byName := make(map[string]*NodeInfo, len(c.nodes))
		for name, e := range c.nodes {
			if e.info.node == nil {
				continue
			}
			if old := s.byName[name]; old != nil && old.generation == e.info.generation {
				byName[name] = old
			} else {
				byName[name] = e.info.clone()
			}
		}
		s.byName = byName
		s.treeVersion = c.treeVersion
	}
	s.generation = c.generation
	end := c.deltaBase + int64(len(c.deltas))
	resetIndex := rebuild || s.index == nil || s.logSeq < c.deltaBase
	s.deltaBuf = s.deltaBuf[:0]
	if !resetIndex {
		s.deltaBuf = append(s.deltaBuf, c.deltas[s.logSeq-c.deltaBase:]...)
	}
	s.logSeq = end
	if consume {
		clear(c.deltas)
		c.deltas = c.deltas[:0]
		c.deltaBase = end
	}
	c.mu.Unlock()

	// The rest works on s alone, outside the lock.
	if rebuild {
		s.rebuildList()
	}
	if resetIndex {
		if s.index == nil {
			s.index = newTopologyIndex(s)
		} else {
			s.index.reset()
		}
	} else {
		for _, d := range s.deltaBuf {
			if d.add {
				s.index.apply(d.pod, d.node, 1)
			} else {
				s.index.apply(d.pod, d.node, -1)
			}
		}
		clear(s.deltaBuf)
	}
	s.index.tick()
}

// addToNode counts pi on a node, creating a placeholder for a node not
// registered yet. The caller holds c.mu.
func (c *Cache) addToNode(node string, pi *PodInfo) {
	e := c.nodes[node]
	if e == nil {
		e = &nodeEntry{info: newNodeInfo(node)}
		c.nodes[node] = e
	}
	e.info.addPod(pi)
	c.touch(e)
	c.logDelta(podDelta{pod: pi, node: node, add: true})
}

// removeFromNode stops counting a pod; empty placeholders go away.
func (c *Cache) removeFromNode(node, key string) {
	e := c.nodes[node]
	if e == nil {
		return
	}
	pi := e.info.removePod(key)
	if pi == nil {
		return
	}
	c.logDelta(podDelta{pod: pi, node: node})
	if e.info.node == nil && len(e.info.pods) == 0 {
		c.unlink(e)
		delete(c.nodes, node)
		return
	}
	c.touch(e)
}

func (c *Cache) logDelta(d podDelta) {
	if len(c.deltas) >= maxDeltaLog {
		// Nobody is reading the log fast enough; drop it. Snapshots
		// that fall behind rebuild their index from their nodes.
		c.deltaBase += int64(len(c.deltas))
		clear(c.deltas)
		c.deltas = c.deltas[:0]
	}
	c.deltas = append(c.deltas, d)
}

// touch marks a node changed: new generation, moved to the list head, so
// UpdateSnapshot finds every changed node by walking from the head until it
// meets a generation it already has.
func (c *Cache) touch(e *nodeEntry) {
	c.generation++
	e.info.generation = c.generation
	if c.head == e {
		return
	}
	c.unlink(e)
	e.next = c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
}

func (c *Cache) unlink(e *nodeEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	if c.head == e {
		c.head = e.next
	}
	e.prev, e.next = nil, nil
}
