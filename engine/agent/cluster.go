package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// filter selects this agent's sandboxes and containers (of one pod when
// uid is set): its cluster's, on its node. Another cluster's objects on
// the same engine, even on a node of the same name, and objects without a
// cluster label (made by a maestro from before cluster ids, or by tests)
// never match, so the agent never adopts, stops or removes them.
func (a *Agent) filter(uid string) runtime.Filter {
	return runtime.Filter{Cluster: a.cluster, Node: a.cfg.NodeName, PodUID: uid}
}

// resolveCluster learns the cluster's id from the API server (retrying
// while it is unreachable, as registration does) and reports the node's
// containers that carry no cluster id, which it leaves alone.
func (a *Agent) resolveCluster(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 30; attempt++ {
		info, err := a.cfg.Client.ClusterInfo(ctx)
		switch {
		case err == nil && info.ClusterID == "":
			return errors.New("the API server reports no cluster id (GET /v1/cluster-info): upgrade the server " +
				"before its agents, which label their containers with it")
		case err == nil:
			a.cluster = info.ClusterID
			a.log.Info("cluster id", "cluster", a.cluster)
			a.reportUnlabelled(ctx)
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("reading the cluster id: %w", lastErr)
}

// reportUnlabelled warns about sandboxes labelled with this node's name
// but no cluster: the agent does not adopt, stop or remove them (they may
// be a test's, or another tool's), so pods they ran start afresh.
func (a *Agent) reportUnlabelled(ctx context.Context) {
	sbs, err := a.rt.ListSandboxes(ctx, runtime.Filter{Node: a.cfg.NodeName})
	if err != nil {
		return
	}
	n := 0
	for _, sb := range sbs {
		if sb.Labels[runtime.LabelCluster] == "" {
			n++
		}
	}
	if n > 0 {
		a.log.Warn("pod sandboxes labelled with this node's name carry no cluster id (made by a maestro from before "+
			"cluster ids, or by tests); they are left alone: remove them by hand if they are this node's",
			"count", n, "label", runtime.LabelNode+"="+a.cfg.NodeName)
	}
}
