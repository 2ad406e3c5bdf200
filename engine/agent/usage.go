package agent

import (
	"context"
	"time"
)

// reportUsage sends the node's usage, as of the last sample, to the API
// server (which keeps it in memory for `maestro top` and the autoscaler).
// A failed report is not retried: the next interval sends a fresh one.
func (a *Agent) reportUsage(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	r := a.stats.report(a.cfg.NodeName, time.Now(), a.cfg.MetricsInterval)
	ctx, cancel := context.WithTimeout(ctx, a.cfg.MetricsInterval)
	defer cancel()
	if err := a.cfg.Client.ReportNodeMetrics(ctx, r); err != nil && ctx.Err() == nil {
		a.log.Warn("usage report failed; the next interval sends a fresh one", "pods", len(r.Pods), "err", err)
	}
}
