package manager

import (
	"context"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller/autoscaler"
)

// ClientMetrics is the horizontal autoscaler's usage source: the API
// server's pod metrics (the metrics pipeline, kept in its memory).
type ClientMetrics struct{ C *client.Client }

var _ autoscaler.Metrics = ClientMetrics{}

// PodMetrics implements autoscaler.Metrics.
func (m ClientMetrics) PodMetrics(ctx context.Context, namespace string, selector labels.Selector) ([]*autoscaler.PodUsage, error) {
	pms, err := m.C.PodMetrics(namespace).List(ctx, client.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	out := make([]*autoscaler.PodUsage, 0, len(pms))
	for _, pm := range pms {
		u := &autoscaler.PodUsage{Name: pm.Name, Timestamp: pm.Timestamp,
			Window: time.Duration(pm.WindowSeconds) * time.Second, Containers: map[string]autoscaler.Usage{}}
		for _, c := range pm.Containers {
			var usage autoscaler.Usage
			if q, ok := c.Usage[api.ResourceCPU]; ok {
				usage.CPUMilli = q.MilliValue()
			}
			if q, ok := c.Usage[api.ResourceMemory]; ok {
				usage.MemoryBytes = q.Value()
			}
			u.Containers[c.Name] = usage
		}
		out = append(out, u)
	}
	return out, nil
}
