package simnode

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

// NodeSpec describes one simulated node.
type NodeSpec struct {
	Name   string
	Zone   string
	CPU    resource.Quantity // default 4
	Memory resource.Quantity // default 32Gi
	Pods   int64             // default 110
	Labels map[string]string
	Taints []api.Taint
	// Client, when set, writes this node's Node object (registration and
	// heartbeats) instead of the fleet's client: with a node token the
	// node reaches the API as a real agent does.
	Client *client.Client
}

// Config tunes a fleet.
type Config struct {
	Client *client.Client
	Log    *slog.Logger
	// HeartbeatInterval is how often each node renews its Ready condition
	// (default 2 s, well inside the node lifecycle grace period).
	HeartbeatInterval time.Duration
	// StatusWorkers write pod statuses (and send usage reports) in
	// parallel (default 16).
	StatusWorkers int
	// MetricsInterval is how often each node reports its pods' synthetic
	// usage (default 10 s, as agents; negative: never).
	MetricsInterval time.Duration
}

// Fleet is a set of simulated nodes sharing one pod watch.
type Fleet struct {
	cfg   Config
	log   *slog.Logger
	pods  *client.Informer[*api.Pod]
	queue *workqueue.Queue[string]

	mu    sync.RWMutex
	nodes map[string]*Node
	ipSeq atomic.Uint32
	ips   sync.Map // pod UID -> IP, so a pod keeps its address
}

// Node is one simulated node.
type Node struct {
	Spec    NodeSpec
	address string
	stopped atomic.Bool
}

const nodeIndex = "nodeName"

// NewFleet builds a fleet; Add registers nodes and Run serves them.
func NewFleet(cfg Config) *Fleet {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if cfg.StatusWorkers <= 0 {
		cfg.StatusWorkers = 16
	}
	if cfg.MetricsInterval == 0 {
		cfg.MetricsInterval = 10 * time.Second
	}
	f := &Fleet{cfg: cfg, log: cfg.Log.With("component", "simnode"), nodes: map[string]*Node{},
		queue: workqueue.New[string](workqueue.WithName("simnode-pods"))}
	f.pods = client.NewInformer(cfg.Client.Pods(""), client.ListOptions{})
	f.pods.AddIndex(nodeIndex, func(p *api.Pod) []string { return []string{p.Spec.NodeName} })
	enqueue := func(p *api.Pod) {
		if p.Spec.NodeName != "" && f.node(p.Spec.NodeName) != nil {
			f.queue.Add(p.Key())
		}
	}
	f.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    enqueue,
		OnUpdate: func(_, p *api.Pod) { enqueue(p) },
	})
	return f
}

// Add registers a simulated node with the API (or takes over an existing
// Node object of that name) and starts serving it.
func (f *Fleet) Add(ctx context.Context, spec NodeSpec) (*Node, error) {
	if spec.CPU.IsZero() {
		spec.CPU = resource.MustParse("4")
	}
	if spec.Memory.IsZero() {
		spec.Memory = resource.MustParse("32Gi")
	}
	if spec.Pods == 0 {
		spec.Pods = 110
	}
	n := &Node{Spec: spec, address: f.nodeAddress()}
	node := n.apiNode(time.Now())
	nodes := f.nodesClient(n)
	_, err := nodes.Create(ctx, node)
	if api.IsAlreadyExists(err) {
		var existing *api.Node
		if existing, err = nodes.Get(ctx, spec.Name); err == nil {
			existing.Status = node.Status
			_, err = nodes.UpdateStatus(ctx, existing)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registering simulated node %s: %w", spec.Name, err)
	}
	f.mu.Lock()
	f.nodes[spec.Name] = n
	f.mu.Unlock()
	// Pods bound before the node was added are picked up now.
	for _, p := range f.pods.ByIndex(nodeIndex, spec.Name) {
		f.queue.Add(p.Key())
	}
	return n, nil
}

// nodesClient is how node n writes its Node object.
func (f *Fleet) nodesClient(n *Node) client.Resource[*api.Node] {
	if n.Spec.Client != nil {
		return n.Spec.Client.Nodes()
	}
	return f.cfg.Client.Nodes()
}

// Node returns a simulated node by name.
func (f *Fleet) Node(name string) *Node { return f.node(name) }

func (f *Fleet) node(name string) *Node {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.nodes[name]
}

// Stop makes the node go silent: no heartbeats, no pod status, as if the
// machine lost power.
func (n *Node) Stop() { n.stopped.Store(true) }

// Resume brings a stopped node back; like an agent coming back, it
// reports all its pods again (the node lifecycle controller marked them
// not ready while it was silent).
func (f *Fleet) Resume(name string) {
	n := f.node(name)
	if n == nil {
		return
	}
	n.stopped.Store(false)
	for _, p := range f.pods.ByIndex(nodeIndex, name) {
		f.queue.Add(p.Key())
	}
}

// Run serves the fleet's nodes until ctx ends.
func (f *Fleet) Run(ctx context.Context) {
	go f.pods.Run(ctx)
	go f.heartbeats(ctx)
	if f.cfg.MetricsInterval > 0 {
		go f.reportUsage(ctx)
	}
	workqueue.Run(ctx, f.queue, f.cfg.StatusWorkers, f.syncPod, func(key string, err error) {
		if ctx.Err() == nil && !api.IsConflict(err) && !api.IsNotFound(err) {
			f.log.Debug("pod status update failed; retrying", "pod", key, "err", err)
		}
	})
}

// WaitForSync waits until the fleet has seen the current pods.
func (f *Fleet) WaitForSync(ctx context.Context) bool { return f.pods.WaitForSync(ctx) }

func (f *Fleet) heartbeats(ctx context.Context) {
	every(ctx, f.cfg.HeartbeatInterval, func() {
		for _, n := range f.running() {
			f.heartbeat(ctx, n)
		}
	})
}

// every calls fn each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// running is the fleet's nodes that are not stopped.
func (f *Fleet) running() []*Node {
	f.mu.RLock()
	defer f.mu.RUnlock()
	nodes := make([]*Node, 0, len(f.nodes))
	for _, n := range f.nodes {
		if !n.stopped.Load() {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// heartbeat renews the node's Ready condition (and clears a NotReady the
// lifecycle controller set while the node was silent).
func (f *Fleet) heartbeat(ctx context.Context, n *Node) {
	nodes := f.nodesClient(n)
	cur, err := nodes.Get(ctx, n.Spec.Name)
	if err != nil {
		return
	}
	now := time.Now().UTC()
	api.SetCondition(&cur.Status.Conditions, api.Condition{Type: api.NodeReady, Status: api.ConditionTrue,
		Reason: "SimulatedNodeReady", Message: "simulated node is posting ready status", LastHeartbeatTime: now}, now)
	if _, err := nodes.UpdateStatus(ctx, cur); err != nil && ctx.Err() == nil {
		f.log.Debug("heartbeat failed", "node", n.Spec.Name, "err", err)
	}
}

// syncPod reports a bound pod as running (ready unless annotated), and
// finishes the deletion of pods being deleted.
func (f *Fleet) syncPod(ctx context.Context, key string) error {
	p, ok := f.pods.Get(key)
	if !ok {
		return nil
	}
	n := f.node(p.Spec.NodeName)
	if n == nil || n.stopped.Load() {
		return nil
	}
	if p.DeletionTimestamp != nil {
		err := f.cfg.Client.Pods(p.Namespace).Delete(ctx, p.Name, client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](0)})
		if api.IsNotFound(err) {
			return nil
		}
		return err
	}
	want := f.podStatus(p, n)
	if statusEqual(&p.Status, &want) {
		return nil
	}
	up := *p
	up.Status = want
	_, err := f.cfg.Client.Pods(p.Namespace).UpdateStatus(ctx, &up)
	return err
}

func (f *Fleet) podStatus(p *api.Pod, n *Node) api.PodStatus {
	st := *deepCopyStatus(&p.Status)
	now := time.Now().UTC().Truncate(time.Second)
	ready := p.Annotations[AnnotationReady] != "false"
	st.Phase = api.PodRunning
	st.HostIP = n.address
	if st.PodIP == "" {
		st.PodIP = f.podIP(p.UID)
	}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	cond := api.ConditionFalse
	if ready {
		cond = api.ConditionTrue
	}
	for _, c := range []api.Condition{
		{Type: api.PodScheduled, Status: api.ConditionTrue},
		{Type: api.PodInitialized, Status: api.ConditionTrue},
		{Type: api.ContainersReady, Status: cond},
		{Type: api.PodReady, Status: cond},
	} {
		api.SetCondition(&st.Conditions, c, now)
	}
	st.ContainerStatuses = make([]api.ContainerStatus, len(p.Spec.Containers))
	for i, c := range p.Spec.Containers {
		started := now
		if old := findContainerStatus(p.Status.ContainerStatuses, c.Name); old != nil && old.State.Running != nil {
			started = old.State.Running.StartedAt
		}
		st.ContainerStatuses[i] = api.ContainerStatus{Name: c.Name, Image: c.Image, Ready: ready, Started: api.Ptr(true),
			ContainerID: "sim://" + p.UID + "/" + c.Name, State: api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: started}}}
	}
	return st
}

// podIP hands out addresses from 10.128.0.0/9, one per pod UID.
func (f *Fleet) podIP(uid string) string {
	if ip, ok := f.ips.Load(uid); ok {
		return ip.(string)
	}
	n := f.ipSeq.Add(1)
	ip := netip.AddrFrom4([4]byte{10, 128 + byte(n>>16&0x7f), byte(n >> 8), byte(n)}).String()
	actual, _ := f.ips.LoadOrStore(uid, ip)
	return actual.(string)
}

var nodeSeq atomic.Uint32

// nodeAddress gives each simulated node a distinct fake address in 10.64.0.0/10.
func (f *Fleet) nodeAddress() string {
	n := nodeSeq.Add(1)
	return netip.AddrFrom4([4]byte{10, 64 + byte(n>>16&0x3f), byte(n >> 8), byte(n)}).String()
}

func (n *Node) apiNode(now time.Time) *api.Node {
	labels := map[string]string{api.LabelHostname: n.Spec.Name, "node.maestro.dev/simulated": "true"}
	if n.Spec.Zone != "" {
		labels[api.LabelZone] = n.Spec.Zone
	}
	for k, v := range n.Spec.Labels {
		labels[k] = v
	}
	capacity := api.ResourceList{
		api.ResourceCPU: n.Spec.CPU, api.ResourceMemory: n.Spec.Memory,
		api.ResourcePods: resource.NewQuantity(n.Spec.Pods, resource.DecimalSI),
	}
	now = now.UTC()
	return &api.Node{
		ObjectMeta: api.ObjectMeta{Name: n.Spec.Name, Labels: labels},
		Spec:       api.NodeSpec{Taints: n.Spec.Taints, ProviderID: "sim://" + n.Spec.Name},
		Status: api.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, Reason: "SimulatedNodeReady",
				LastHeartbeatTime: now, LastTransitionTime: now, LastUpdateTime: now}},
			Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: n.address}, {Type: api.NodeHostName, Address: n.Spec.Name}},
			NodeInfo:  api.NodeSystemInfo{AgentVersion: "simulated", Runtime: "none"},
		},
	}
}
