package metrics

import (
	"sort"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// ExpiryIntervals is how many report intervals a node may miss before its
// usage is forgotten.
const ExpiryIntervals = 3

// DefaultInterval is the agents' default report interval.
const DefaultInterval = 10 * time.Second

// Store keeps the last usage report of every node, in memory. It is safe
// for concurrent use; reports take a write lock for the swap only.
type Store struct {
	interval time.Duration
	now      func() time.Time

	mu    sync.RWMutex
	nodes map[string]*nodeSample
	// pods indexes the pods of every node's last report by namespace and
	// name, so a namespace's pods are found without scanning every node.
	pods map[string]map[string]*podSample
	// swept is when silent nodes were last looked for: reports sweep once
	// an interval, so the store needs no goroutine of its own.
	swept time.Time
}

// nodeSample is one node's last report, kept compact: two integers per
// container instead of the report's maps.
type nodeSample struct {
	name      string
	received  time.Time // server clock: expiry never depends on the agent's
	timestamp time.Time
	window    int64
	usage     usage
	pods      []podSample
}

type podSample struct {
	node       *nodeSample
	namespace  string
	name       string
	uid        string
	containers []containerSample
}

type containerSample struct {
	name string
	usage
}

// usage is cpu in millicores and memory in bytes.
type usage struct{ cpuMilli, memory int64 }

// NewStore makes a store for reports sent every interval (DefaultInterval
// when 0).
func NewStore(interval time.Duration) *Store {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Store{interval: interval, now: time.Now, nodes: map[string]*nodeSample{}, pods: map[string]map[string]*podSample{}}
}

// Interval is the report interval the store expects.
func (s *Store) Interval() time.Duration { return s.interval }

// Report replaces the node's usage with a validated report.
func (s *Store) Report(r *api.NodeMetricsReport) {
	n := &nodeSample{
		name:      r.Node,
		received:  s.now(),
		timestamp: r.Timestamp,
		window:    r.WindowSeconds,
		usage:     usageOf(r.Usage),
		pods:      make([]podSample, len(r.Pods)),
	}
	for i, p := range r.Pods {
		ps := &n.pods[i]
		*ps = podSample{node: n, namespace: p.Namespace, name: p.Name, uid: p.UID, containers: make([]containerSample, len(p.Containers))}
		for j, c := range p.Containers {
			ps.containers[j] = containerSample{name: c.Name, usage: usageOf(c.Usage)}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.received.Sub(s.swept) >= s.interval {
		s.expireLocked(n.received)
		s.swept = n.received
	}
	s.forgetLocked(r.Node)
	s.nodes[r.Node] = n
	for i := range n.pods {
		p := &n.pods[i]
		ns := s.pods[p.namespace]
		if ns == nil {
			ns = map[string]*podSample{}
			s.pods[p.namespace] = ns
		}
		// A pod reported by two nodes (moved, or a stale report): the
		// latest report wins.
		ns[p.name] = p
	}
}

// Forget drops a node's usage (its Node was deleted).
func (s *Store) Forget(node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(node)
}

func (s *Store) forgetLocked(node string) {
	old := s.nodes[node]
	if old == nil {
		return
	}
	delete(s.nodes, node)
	for i := range old.pods {
		p := &old.pods[i]
		ns := s.pods[p.namespace]
		if ns[p.name] == p {
			delete(ns, p.name)
			if len(ns) == 0 {
				delete(s.pods, p.namespace)
			}
		}
	}
}

// Expire forgets the nodes that missed ExpiryIntervals reports and
// returns how many it forgot (Report does it once an interval).
func (s *Store) Expire() int {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expireLocked(now)
}

func (s *Store) expireLocked(now time.Time) int {
	cutoff := now.Add(-ExpiryIntervals * s.interval)
	var n int
	for name, ns := range s.nodes {
		if ns.received.Before(cutoff) {
			s.forgetLocked(name)
			n++
		}
	}
	return n
}

// fresh reports whether a sample may still be served (reads between two
// expiry sweeps never serve a silent node's old usage).
func (s *Store) fresh(n *nodeSample, now time.Time) bool {
	return !n.received.Before(now.Add(-ExpiryIntervals * s.interval))
}

// Node returns a node's usage (false when unknown or expired).
func (s *Store) Node(name string) (api.NodeMetrics, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.nodes[name]
	if n == nil || !s.fresh(n, s.now()) {
		return api.NodeMetrics{}, false
	}
	return n.metrics(), true
}

// Nodes returns every node's usage, sorted by name.
func (s *Store) Nodes() []api.NodeMetrics {
	now := s.now()
	s.mu.RLock()
	out := make([]api.NodeMetrics, 0, len(s.nodes))
	for _, n := range s.nodes {
		if s.fresh(n, now) {
			out = append(out, n.metrics())
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PodUsage is a pod's usage with the node that reported it (the API server
// serves it only while the pod is bound there).
type PodUsage struct {
	Node    string
	UID     string
	Metrics api.PodMetrics
}

// Pod returns a pod's usage (false when unknown or expired).
func (s *Store) Pod(namespace, name string) (PodUsage, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.pods[namespace][name]
	if p == nil || !s.fresh(p.node, s.now()) {
		return PodUsage{}, false
	}
	return p.usage(), true
}

// Pods returns the usage of every pod of a namespace ("" = all), sorted by
// namespace and name.
func (s *Store) Pods(namespace string) []PodUsage {
	now := s.now()
	s.mu.RLock()
	var out []PodUsage
	add := func(m map[string]*podSample) {
		for _, p := range m {
			if s.fresh(p.node, now) {
				out = append(out, p.usage())
			}
		}
	}
	if namespace != "" {
		add(s.pods[namespace])
	} else {
		for _, m := range s.pods {
			add(m)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i].Metrics, &out[j].Metrics
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	return out
}

// Len is how many nodes and pods the store holds.
func (s *Store) Len() (nodes, pods int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.pods {
		pods += len(m)
	}
	return len(s.nodes), pods
}

func (n *nodeSample) metrics() api.NodeMetrics {
	return api.NodeMetrics{
		TypeMeta:      api.TypeMeta{Kind: api.KindNodeMetrics, APIVersion: api.APIVersion},
		ObjectMeta:    api.ObjectMeta{Name: n.name},
		Timestamp:     n.timestamp,
		WindowSeconds: n.window,
		Usage:         n.usage.list(),
	}
}

func (p *podSample) usage() PodUsage {
	m := api.PodMetrics{
		TypeMeta:      api.TypeMeta{Kind: api.KindPodMetrics, APIVersion: api.APIVersion},
		ObjectMeta:    api.ObjectMeta{Namespace: p.namespace, Name: p.name, UID: p.uid},
		Timestamp:     p.node.timestamp,
		WindowSeconds: p.node.window,
		Containers:    make([]api.ContainerMetrics, len(p.containers)),
	}
	for i, c := range p.containers {
		m.Containers[i] = api.ContainerMetrics{Name: c.name, Usage: c.usage.list()}
	}
	return PodUsage{Node: p.node.name, UID: p.uid, Metrics: m}
}

func usageOf(l api.ResourceList) usage {
	cpu, mem := l[api.ResourceCPU], l[api.ResourceMemory]
	return usage{cpuMilli: cpu.MilliValue(), memory: mem.Value()}
}

func (u usage) list() api.ResourceList {
	return api.ResourceList{
		api.ResourceCPU:    resource.NewMilliQuantity(u.cpuMilli, resource.DecimalSI),
		api.ResourceMemory: resource.NewQuantity(u.memory, resource.BinarySI),
	}
}
