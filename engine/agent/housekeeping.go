package agent

import (
	"context"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// housekeeping resyncs every pod and removes what belongs to no pod, each
// ResyncInterval.
func (a *Agent) housekeeping(ctx context.Context) {
	t := time.NewTicker(a.cfg.ResyncInterval)
	defer t.Stop()
	for {
		if err := a.removeOrphans(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("removing orphaned containers failed", "err", err)
		}
		if err := a.reconcilePodNetwork(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("reconciling the pod network (addresses of removed sandboxes, bridge, rules) failed", "err", err)
		}
		for _, p := range a.pods.List() {
			a.queue.Add(p.Key())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// removeOrphans stops and removes sandboxes and containers of this node
// whose pods no longer exist here (deleted while the agent was down, or
// replaced after the node was lost).
func (a *Agent) removeOrphans(ctx context.Context) error {
	live := map[string]bool{}
	for _, p := range a.pods.List() {
		live[p.UID] = true
	}
	sbs, err := a.rt.ListSandboxes(ctx, a.filter(""))
	if err != nil {
		return err
	}
	cs, err := a.rt.ListContainers(ctx, a.filter(""))
	if err != nil {
		return err
	}
	orphans := map[string]bool{}
	for _, sb := range sbs {
		if !live[sb.PodUID] {
			orphans[sb.PodUID] = true
		}
	}
	for _, c := range cs {
		if !live[c.PodUID] {
			orphans[c.PodUID] = true
		}
	}
	for uid := range orphans {
		a.log.Info("removing containers of a pod that no longer runs here", "pod_uid", uid)
		if err := a.killPod(ctx, uid, 0); err != nil {
			return err
		}
	}
	return nil
}

// pruneDead keeps only the newest exited container of each container
// name (for lastState and `logs --previous`).
func (a *Agent) pruneDead(ctx context.Context, cs []runtime.Container) {
	newest := map[string]int{}
	for _, c := range cs {
		if c.Attempt > newest[c.Name] {
			newest[c.Name] = c.Attempt
		}
	}
	for _, c := range cs {
		if c.State == runtime.ContainerExited && c.Attempt < newest[c.Name]-1 {
			_ = a.rt.RemoveContainer(ctx, c.ID)
		}
	}
}
