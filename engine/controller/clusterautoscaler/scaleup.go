package clusterautoscaler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

// PoolState is what the planners know of one autoscaling pool.
type PoolState struct {
	Pool *api.NodePool
	// Template is the node a new machine of the pool would register (see
	// TemplateNode); the planners copy it under their own names.
	Template *api.Node
	// Size is spec.size; Nodes counts the pool's registered nodes whose
	// machines are not being deleted. Size-Nodes machines are on their way:
	// their template nodes count as capacity already coming.
	Size, Nodes int
}

func (p PoolState) name() string { return p.Pool.Name }

// room is how many machines the pool may still add.
func (p PoolState) room() int { return max(0, int(p.Pool.Spec.MaxSize)-p.Size) }

// upcoming is how many machines the pool is still adding.
func (p PoolState) upcoming() int { return max(0, p.Size-p.Nodes) }

// ScaleUpInput is the cluster as the scale-up planner sees it.
type ScaleUpInput struct {
	// Nodes are the registered nodes; Pods the pods bound to them.
	Nodes []*api.Node
	Pods  []*api.Pod
	// Pending are the pods the scheduler could not place.
	Pending []*api.Pod
	// Pools are the pools with spec.autoscaling, any order.
	Pools []PoolState
}

// Option is what adding nodes to one pool would do, as Kubernetes'
// expander sees it.
type Option struct {
	Pool  string
	Nodes int
	// Pods are the pending pods (namespace/name) the new nodes would hold.
	Pods []string
	// Waste is the share of the new nodes' cpu left unrequested plus that
	// of their memory (0: full, 2: empty), Kubernetes' least-waste score.
	Waste float64
}

// ScaleUp is the scale-up planner's decision.
type ScaleUp struct {
	// Chosen is the pool to grow (Pool "" when none) by Chosen.Nodes.
	Chosen Option
	// Options are every pool's option, best first.
	Options []Option
	// Waiting maps pending pods that fit on nodes a pool is already
	// adding to that pool; pods that fit a registered node are not listed
	// (the scheduler will place them).
	Waiting map[string]string
	// NoScaleUp maps pods no pool can add a node for to why, pool by pool.
	NoScaleUp map[string]string
	// Never lists the pods of NoScaleUp that no pool's template node could
	// hold even with room to grow: too big, or matching no pool.
	Never map[string]bool
}

// previewSeed makes the planner's previews reproducible.
const previewSeed = 0x636173

// templateName names the i-th template node of a pool in a planner's
// snapshot; it cannot clash with a real node (no ':' in node names).
func templateName(pool, kind string, i int) string { return fmt.Sprintf("%s:%s:%d", pool, kind, i) }

// isTemplateOf reports whether node is a template node of pool of the kind.
func isTemplateOf(node, pool, kind string) bool {
	return strings.HasPrefix(node, pool+":"+kind+":")
}

func templates(p PoolState, kind string, n int) []*api.Node {
	out := make([]*api.Node, n)
	for i := range n {
		c := *p.Template
		c.Name = templateName(p.name(), kind, i)
		out[i] = &c
	}
	return out
}

// PlanScaleUp decides which pool to grow for the pending pods, as
// Kubernetes' cluster-autoscaler does:
//  1. the pending pods are previewed with the scheduler's pipeline on the
//     registered nodes plus a template node per machine each pool is still
//     adding; those that fit are waiting already (no second scale-up);
//  2. for each pool, the rest are previewed one by one on one template
//     node: those that fit are the pool's candidates (a pod fitting no
//     pool's template is Never);
//  3. the candidates are bin-packed, with the same pipeline, onto 1, 2, ...
//     template nodes up to the pool's room below maxSize, until all fit
//     or another node places no more;
//  4. the option with the least waste wins, as in cluster-autoscaler's
//     expander/waste (its share of the new nodes' cpu left unrequested plus
//     that of their memory; of allocatable rather than capacity, what pods
//     can have); ties, which Kubernetes breaks at random, go to more pods,
//     fewer nodes, then the pool's name, so a decision is reproducible.
func PlanScaleUp(in ScaleUpInput) ScaleUp {
	out := ScaleUp{Waiting: map[string]string{}, NoScaleUp: map[string]string{}, Never: map[string]bool{}}
	pools := slices.Clone(in.Pools)
	slices.SortFunc(pools, func(a, b PoolState) int { return cmp.Compare(a.name(), b.name()) })
	pipe := newPipeline()

	base := slices.Clone(in.Nodes)
	for _, p := range pools {
		base = append(base, templates(p, "upcoming", p.upcoming())...)
	}
	var rest []*api.Pod
	// placed: the bound pods and the pending ones that fit, where they
	// would go, so the pools' options see the space those take.
	placed := slices.Clone(in.Pods)
	for i, pl := range pipe.Preview(scheduler.NewSnapshotFrom(base, in.Pods), in.Pending) {
		if pl.Node == "" {
			rest = append(rest, in.Pending[i])
			continue
		}
		if strings.Contains(pl.Node, ":upcoming:") {
			out.Waiting[pl.Pod] = pl.Node[:strings.Index(pl.Node, ":")]
		}
		c := *in.Pending[i]
		c.Spec.NodeName = pl.Node
		placed = append(placed, &c)
	}
	if len(rest) == 0 {
		return out
	}

	why := map[string][]string{}
	helped := map[string]bool{}
	fitsSome := map[string]bool{}
	for _, p := range pools {
		cands := candidates(pipe, p, base, placed, rest, why, fitsSome)
		if len(cands) == 0 {
			continue
		}
		if p.room() == 0 {
			for _, pod := range cands {
				why[pod.Key()] = append(why[pod.Key()], fmt.Sprintf("node pool %s is at its maximum size %d", p.name(), p.Pool.Spec.MaxSize))
			}
			continue
		}
		opt := binPack(pipe, p, base, placed, cands)
		for _, pod := range cands {
			if !slices.Contains(opt.Pods, pod.Key()) {
				why[pod.Key()] = append(why[pod.Key()], fmt.Sprintf("node pool %s: the %d node(s) it may still add (maximum size %d) would not hold it next to the other pending pods",
					p.name(), p.room(), p.Pool.Spec.MaxSize))
			}
		}
		if len(opt.Pods) == 0 {
			continue
		}
		for _, k := range opt.Pods {
			helped[k] = true
		}
		out.Options = append(out.Options, opt)
	}
	slices.SortStableFunc(out.Options, func(a, b Option) int {
		return cmp.Or(cmp.Compare(a.Waste, b.Waste), cmp.Compare(len(b.Pods), len(a.Pods)), cmp.Compare(a.Nodes, b.Nodes))
	})
	if len(out.Options) > 0 {
		out.Chosen = out.Options[0]
	}
	for _, pod := range rest {
		k := pod.Key()
		if helped[k] {
			continue
		}
		msg := strings.Join(why[k], "; ")
		if len(pools) == 0 {
			msg = "no node pool has autoscaling"
		}
		out.NoScaleUp[k] = "pod didn't trigger scale-up: " + msg
		if !fitsSome[k] {
			out.Never[k] = true
		}
	}
	return out
}

func newPipeline() *scheduler.Pipeline {
	p, err := scheduler.NewPipeline(scheduler.PipelineConfig{Seed: previewSeed})
	if err != nil {
		panic(err) // the default configuration is valid
	}
	return p
}

// candidates returns the pods of rest that fit, alone, on one empty
// template node of p next to the base nodes, noting in why what kept the
// others off it and in fitsSome the pods that fit.
func candidates(pipe *scheduler.Pipeline, p PoolState, base []*api.Node, pods, rest []*api.Pod, why map[string][]string, fitsSome map[string]bool) []*api.Pod {
	snap := scheduler.NewSnapshotFrom(append(slices.Clone(base), templates(p, "new", 1)...), pods)
	var out []*api.Pod
	for _, pod := range rest {
		pl := pipe.Preview(snap, []*api.Pod{pod})[0]
		if isTemplateOf(pl.Node, p.name(), "new") {
			out = append(out, pod)
			fitsSome[pod.Key()] = true
			continue
		}
		reason := "it fits a node that exists"
		if pl.Node == "" {
			reason = templateReason(pipe, p, pod, pl.Reason)
		}
		why[pod.Key()] = append(why[pod.Key()], fmt.Sprintf("node pool %s: %s", p.name(), reason))
	}
	return out
}

// templateReason says what kept pod off p's template node: the
// scheduler's count over the whole snapshot ("0/4 nodes available: 3
// insufficient cpu, ...") says nothing of the pool, so the template is
// previewed alone; if the pod fits it alone, other pods' placement (spread,
// anti-affinity) kept it off, and the whole message is kept.
func templateReason(pipe *scheduler.Pipeline, p PoolState, pod *api.Pod, msg string) string {
	alone := pipe.Preview(scheduler.NewSnapshotFrom(templates(p, "new", 1), nil), []*api.Pod{pod})[0]
	if alone.Node != "" {
		return "not next to the other pods: " + msg
	}
	_, reasons, _ := strings.Cut(alone.Reason, ": ")
	parts := strings.Split(strings.TrimSuffix(reasons, "."), ", ")
	for i, r := range parts {
		parts[i] = strings.TrimPrefix(r, "1 ")
	}
	return "a new node would not fit it (" + strings.Join(parts, ", ") + ")"
}

// binPack finds how many template nodes of p, up to its room, the
// candidates need, and what they would waste.
func binPack(pipe *scheduler.Pipeline, p PoolState, base []*api.Node, pods, cands []*api.Pod) Option {
	best := Option{Pool: p.name()}
	var placed []int
	for k := 1; k <= p.room(); k++ {
		snap := scheduler.NewSnapshotFrom(append(slices.Clone(base), templates(p, "new", k)...), pods)
		var on []int
		for i, pl := range pipe.Preview(snap, cands) {
			if isTemplateOf(pl.Node, p.name(), "new") {
				on = append(on, i)
			}
		}
		if len(on) <= len(placed) {
			break // one more node placed nothing more
		}
		placed, best.Nodes = on, k
		if len(on) == len(cands) {
			break
		}
	}
	var cpu, mem int64
	for _, i := range placed {
		best.Pods = append(best.Pods, cands[i].Key())
		if pi, err := scheduler.NewPodInfo(cands[i]); err == nil {
			cpu, mem = cpu+pi.CPU, mem+pi.Memory
		}
	}
	allocCPU, allocMem := allocatable(p.Template)
	best.Waste = share(allocCPU*int64(best.Nodes), cpu) + share(allocMem*int64(best.Nodes), mem)
	return best
}

// share is the unrequested share of alloc (0 when alloc is unknown).
func share(alloc, req int64) float64 {
	if alloc <= 0 {
		return 0
	}
	return float64(alloc-req) / float64(alloc)
}

// allocatable returns a node's allocatable cpu (millicores) and memory
// (bytes), its capacity when it reports no allocatable.
func allocatable(n *api.Node) (cpu, mem int64) {
	alloc := n.Status.Allocatable
	if len(alloc) == 0 {
		alloc = n.Status.Capacity
	}
	if q, ok := alloc[api.ResourceCPU]; ok {
		cpu = q.MilliValue()
	}
	if q, ok := alloc[api.ResourceMemory]; ok {
		mem = q.Value()
	}
	return cpu, mem
}
