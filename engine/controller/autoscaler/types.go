package autoscaler

import (
	"context"
	"time"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

// Metrics is where the autoscaler reads pod usage: the metrics pipeline's
// pod metrics of a namespace, filtered by the target's selector. The
// controller takes any implementation (main adapts the API client); a nil
// source leaves every autoscaler inactive (ScalingActive False).
type Metrics interface {
	PodMetrics(ctx context.Context, namespace string, selector labels.Selector) ([]*PodUsage, error)
}

// PodUsage is one pod's last usage sample: a local stand-in for the
// metrics pipeline's api.PodMetrics (same fields, integer units), so that
// this package does not depend on the pipeline's branch. Main converts.
type PodUsage struct {
	Name      string
	Timestamp time.Time // end of the sampling window
	Window    time.Duration
	// Containers maps a container name to its usage.
	Containers map[string]Usage
}

// Usage is a container's CPU (millicores) and memory (working set, bytes).
type Usage struct {
	CPUMilli    int64
	MemoryBytes int64
}
