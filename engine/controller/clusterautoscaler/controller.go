package clusterautoscaler

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
)

// Config tunes the cluster autoscaler. Zero values take the defaults,
// Kubernetes' own.
type Config struct {
	// ScanInterval is how often the cluster is looked at again without a
	// new pending pod (default 10 s).
	ScanInterval time.Duration
	// BatchQuiet and BatchMax bound the pending-pod batch (1 s, 10 s).
	BatchQuiet, BatchMax time.Duration
	// ScaleDownUnneededTime is how long a node stays unneeded before it is
	// removed (10 min); ScaleDownUtilizationThreshold the requested share
	// of cpu and memory under which it may be (0.5).
	ScaleDownUnneededTime         time.Duration
	ScaleDownUtilizationThreshold float64
}

// Defaults.
const (
	DefaultScanInterval                  = 10 * time.Second
	DefaultBatchQuiet                    = time.Second
	DefaultBatchMax                      = 10 * time.Second
	DefaultScaleDownUnneededTime         = 10 * time.Minute
	DefaultScaleDownUtilizationThreshold = 0.5
)

func (c Config) withDefaults() Config {
	c.ScanInterval = cmp.Or(c.ScanInterval, DefaultScanInterval)
	c.BatchQuiet = cmp.Or(c.BatchQuiet, DefaultBatchQuiet)
	c.BatchMax = cmp.Or(c.BatchMax, DefaultBatchMax)
	c.ScaleDownUnneededTime = cmp.Or(c.ScaleDownUnneededTime, DefaultScaleDownUnneededTime)
	c.ScaleDownUtilizationThreshold = cmp.Or(c.ScaleDownUtilizationThreshold, DefaultScaleDownUtilizationThreshold)
	return c
}

// Controller is the cluster autoscaler. Unlike the per-object
// controllers it looks at the whole cluster at once (a decision compares
// pools), so it runs one loop, woken by new pending pods and pool changes
// and every ScanInterval, rather than a work queue of keys.
type Controller struct {
	d        controller.Deps
	cfg      Config
	log      *slog.Logger
	pools    *client.Informer[*api.NodePool]
	machines *client.Informer[*api.Machine]
	pods     *client.Informer[*api.Pod]
	nodes    *client.Informer[*api.Node]
	kick     chan struct{}

	// Owned by the loop.
	batch    Batch
	unneeded map[string]time.Time
	lastScan time.Time
	// told is the last thing each pod was told (reason and pool or
	// message), so its events are not repeated every pass.
	told map[string]string
}

// New registers the controller's informer handlers.
func New(d controller.Deps, cfg Config) *Controller {
	d = d.WithDefaults()
	cfg = cfg.withDefaults()
	c := &Controller{d: d, cfg: cfg, log: d.Log.With("controller", "clusterautoscaler"),
		pools: controller.InformerFor[*api.NodePool](d.Informers), machines: controller.InformerFor[*api.Machine](d.Informers),
		pods: d.Informers.Pods(), nodes: d.Informers.Nodes(), kick: make(chan struct{}, 1),
		batch: Batch{Quiet: cfg.BatchQuiet, Max: cfg.BatchMax}, unneeded: map[string]time.Time{}, told: map[string]string{}}
	c.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    func(p *api.Pod) { c.kickIf(unschedulable(p)) },
		OnUpdate: func(_, p *api.Pod) { c.kickIf(unschedulable(p)) },
	})
	c.pools.AddHandler(client.Handler[*api.NodePool]{
		OnAdd:    func(*api.NodePool) { c.kickIf(true) },
		OnUpdate: func(old, p *api.NodePool) { c.kickIf(old.Generation != p.Generation) },
	})
	return c
}

func (c *Controller) kickIf(ok bool) {
	if !ok {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// unschedulable reports whether the scheduler found no node for p.
func unschedulable(p *api.Pod) bool {
	if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
		return false
	}
	cond := api.FindCondition(p.Status.Conditions, api.PodScheduled)
	return cond != nil && cond.Status == api.ConditionFalse && cond.Reason == api.ReasonUnschedulable
}

// Run runs the loop until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	timer := time.NewTimer(c.cfg.ScanInterval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-timer.C:
		}
		wait, err := c.pass(ctx)
		if err != nil && ctx.Err() == nil {
			c.log.Error("cluster autoscaler pass", "err", err)
			wait = min(wait, time.Second)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// cluster is one pass's view.
type cluster struct {
	pools   []PoolState
	nodes   []*api.Node
	bound   []*api.Pod
	pending []*api.Pod
}

// pass looks at the cluster once: scale up when the pending batch is due
// (or at a scan), scale down at a scan when nothing waits for a node. It
// returns when to look again.
func (c *Controller) pass(ctx context.Context) (time.Duration, error) {
	now := c.d.Now()
	cl, err := c.observe()
	if err != nil || len(cl.pools) == 0 {
		return c.cfg.ScanInterval, err
	}
	pendingKeys := map[string]bool{}
	for _, p := range cl.pending {
		pendingKeys[p.Key()] = true
		c.batch.Observe(p.Key(), now)
	}
	c.batch.Retain(func(k string) bool { return pendingKeys[k] })
	for k := range c.told {
		if !pendingKeys[k] {
			delete(c.told, k)
		}
	}
	scan := now.Sub(c.lastScan) >= c.cfg.ScanInterval
	ready, wait := c.batch.Ready(now)
	if !ready && !scan {
		return cmp.Or(wait, c.cfg.ScanInterval-now.Sub(c.lastScan)), nil
	}
	c.batch.Done()
	var errs []error
	blocked := false
	if len(cl.pending) > 0 {
		up := PlanScaleUp(ScaleUpInput{Nodes: cl.nodes, Pods: cl.bound, Pending: cl.pending, Pools: cl.pools})
		errs = append(errs, c.scaleUp(ctx, cl, up))
		blocked = len(up.Never) < len(cl.pending)
	}
	if scan {
		c.lastScan = now
		if blocked { // pods wait for nodes: removing one now would be undone
			clear(c.unneeded)
		} else {
			errs = append(errs, c.scaleDown(ctx, cl, now))
		}
	}
	return c.cfg.ScanInterval - now.Sub(c.lastScan), errors.Join(errs...)
}

// observe gathers the autoscaling pools, the nodes and the pods.
func (c *Controller) observe() (cluster, error) {
	var cl cluster
	cl.nodes = c.nodes.List()
	slices.SortFunc(cl.nodes, func(a, b *api.Node) int { return cmp.Compare(a.Name, b.Name) })
	registered := map[string]bool{}
	for _, n := range cl.nodes {
		registered[n.Name] = true
	}
	var errs []error
	for _, p := range c.pools.List() {
		if !p.Spec.Autoscaling || p.DeletionTimestamp != nil {
			continue
		}
		ps, err := c.poolState(p, cl.nodes, registered)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cl.pools = append(cl.pools, ps)
	}
	for _, p := range c.pods.List() {
		switch {
		case unschedulable(p):
			cl.pending = append(cl.pending, p)
		case p.Spec.NodeName != "" && !api.IsPodTerminal(p):
			cl.bound = append(cl.bound, p)
		}
	}
	slices.SortFunc(cl.pending, func(a, b *api.Pod) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp), cmp.Compare(a.Key(), b.Key()))
	})
	return cl, errors.Join(errs...)
}

// poolState counts a pool's size and registered nodes, and makes its
// template node like the first Ready node of the pool.
func (c *Controller) poolState(p *api.NodePool, nodes []*api.Node, registered map[string]bool) (PoolState, error) {
	size := int(p.Spec.MinSize)
	if p.Spec.Size != nil {
		size = int(*p.Spec.Size)
	}
	ps := PoolState{Pool: p, Size: size}
	for _, m := range c.machines.ByIndex(controller.IndexOwnerUID, p.UID) {
		if m.DeletionTimestamp == nil && registered[nodeOf(m)] {
			ps.Nodes++
		}
	}
	var like *api.Node
	for _, n := range nodes {
		if n.Labels[api.LabelNodePool] == p.Name && api.IsNodeReady(n) {
			like = n
			break
		}
	}
	var err error
	ps.Template, err = TemplateNode(p, "template", like)
	return ps, err
}

// nodeOf is the name of a machine's node.
func nodeOf(m *api.Machine) string { return cmp.Or(m.Status.NodeName, m.Name) }
