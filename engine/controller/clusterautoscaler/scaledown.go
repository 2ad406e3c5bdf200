package clusterautoscaler

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

// ScaleDownInput is the cluster as the scale-down planner sees it.
type ScaleDownInput struct {
	Nodes []*api.Node
	// Pods are the pods bound to nodes that have not finished.
	Pods []*api.Pod
	// Pools are the pools with spec.autoscaling.
	Pools []PoolState
	// Unneeded says since when each node has been found unneeded (the
	// previous result's Unneeded).
	Unneeded map[string]time.Time
	Now      time.Time
	// Threshold is the requested share of cpu and of memory under which a
	// node may be unneeded (0.5); UnneededTime how long it must stay so.
	Threshold    float64
	UnneededTime time.Duration
}

// Removal is a node to remove from its pool.
type Removal struct {
	Node, Pool string
	// Message says why, for the pool's event and condition.
	Message string
}

// ScaleDown is the scale-down planner's decision.
type ScaleDown struct {
	// Unneeded is the new record of unneeded nodes and since when.
	Unneeded map[string]time.Time
	// Needed says, for each node of an autoscaling pool that is not
	// unneeded, why.
	Needed map[string]string
	// Remove is the node to remove now, or nil.
	Remove *Removal
}

// PlanScaleDown finds the unneeded nodes of autoscaling pools, as
// Kubernetes' cluster-autoscaler does: Ready and schedulable, requesting
// less than Threshold of its cpu and of its memory, every pod managed by
// a controller (a bare pod would be lost) and all of them fitting, in a
// preview with the scheduler's pipeline, on the other nodes. A node
// unneeded for UnneededTime is removed, one per pass (the next pass
// simulates again without it), only from a pool above its minimum and not
// still adding machines; the longest unneeded goes first.
func PlanScaleDown(in ScaleDownInput) ScaleDown {
	out := ScaleDown{Unneeded: map[string]time.Time{}, Needed: map[string]string{}}
	pools := map[string]PoolState{}
	for _, p := range in.Pools {
		pools[p.name()] = p
	}
	podsOn := map[string][]*api.Pod{}
	for _, p := range in.Pods {
		podsOn[p.Spec.NodeName] = append(podsOn[p.Spec.NodeName], p)
	}
	snap := scheduler.NewSnapshotFrom(in.Nodes, in.Pods)
	pipe := newPipeline()
	for _, n := range in.Nodes {
		if _, ok := pools[n.Labels[api.LabelNodePool]]; !ok {
			continue
		}
		if why := needed(pipe, snap, in, n, podsOn[n.Name]); why != "" {
			out.Needed[n.Name] = why
			continue
		}
		since, ok := in.Unneeded[n.Name]
		if !ok {
			since = in.Now
		}
		out.Unneeded[n.Name] = since
	}
	var due []string
	for name, since := range out.Unneeded {
		n := snap.Get(name).Node()
		p := pools[n.Labels[api.LabelNodePool]]
		if in.Now.Sub(since) >= in.UnneededTime && p.Size > int(p.Pool.Spec.MinSize) && p.upcoming() == 0 {
			due = append(due, name)
		}
	}
	if len(due) == 0 {
		return out
	}
	name := slices.MinFunc(due, func(a, b string) int {
		return cmp.Or(out.Unneeded[a].Compare(out.Unneeded[b]), cmp.Compare(a, b))
	})
	ni := snap.Get(name)
	cpu, mem := utilization(ni)
	out.Remove = &Removal{Node: name, Pool: ni.Node().Labels[api.LabelNodePool], Message: fmt.Sprintf(
		"node %s unneeded for %s: %.0f%% of its cpu and %.0f%% of its memory requested, its %d pod(s) fit on other nodes",
		name, in.Now.Sub(out.Unneeded[name]).Round(time.Second), 100*cpu, 100*mem, len(podsOn[name]))}
	return out
}

// needed says why node n must stay, or "" when it is unneeded.
func needed(pipe *scheduler.Pipeline, snap *scheduler.Snapshot, in ScaleDownInput, n *api.Node, pods []*api.Pod) string {
	if !api.IsNodeReady(n) || n.Spec.Unschedulable || n.DeletionTimestamp != nil {
		return "not Ready, cordoned or being deleted"
	}
	ni := snap.Get(n.Name)
	if ni == nil {
		return "not in the snapshot"
	}
	if cpu, mem := utilization(ni); cpu >= in.Threshold || mem >= in.Threshold {
		return fmt.Sprintf("%.0f%% of its cpu and %.0f%% of its memory requested (threshold %.0f%%)", 100*cpu, 100*mem, 100*in.Threshold)
	}
	moved := make([]*api.Pod, 0, len(pods))
	for _, p := range pods {
		if p.ControllerRef() == nil {
			return fmt.Sprintf("pod %s is not managed by a controller", p.Key())
		}
		c := *p
		c.Spec.NodeName = ""
		moved = append(moved, &c)
	}
	if len(moved) == 0 {
		return ""
	}
	var others []*api.Node
	var otherPods []*api.Pod
	for _, o := range in.Nodes {
		if o.Name != n.Name {
			others = append(others, o)
		}
	}
	for _, p := range in.Pods {
		if p.Spec.NodeName != n.Name {
			otherPods = append(otherPods, p)
		}
	}
	for _, pl := range pipe.Preview(scheduler.NewSnapshotFrom(others, otherPods), moved) {
		if pl.Node == "" {
			return fmt.Sprintf("pod %s fits on no other node: %s", pl.Pod, pl.Reason)
		}
	}
	return ""
}

// utilization is the requested share of a node's cpu and memory.
func utilization(ni *scheduler.NodeInfo) (cpu, mem float64) {
	ac, am, _ := ni.Allocatable()
	rc, rm := ni.Requested()
	return 1 - share(ac, rc), 1 - share(am, rm)
}
