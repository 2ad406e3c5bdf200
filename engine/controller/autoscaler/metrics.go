package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// errNoPipeline: no metrics source was plugged into the controller.
var errNoPipeline = errors.New("no metrics pipeline")

// metricsResult is the largest proposal over an autoscaler's metrics.
type metricsResult struct {
	replicas  int32
	metric    string // the metric that proposed it, for events
	statuses  []api.MetricStatus
	timestamp time.Time
	// active is the ScalingActive condition to set.
	active api.Condition
}

// computeReplicas proposes a replica count per metric and keeps the
// largest, as Kubernetes' computeReplicasForMetrics: when every metric
// failed, or some failed and the others would scale down, it returns an
// error (no scaling on partial data) with the first failure as condition.
func (c *Controller) computeReplicas(ctx context.Context, a *api.Autoscaler, spec *api.AutoscalerSpec, current int32,
	selector labels.Selector, pods []*api.Pod) (metricsResult, error) {
	res := metricsResult{replicas: -1}
	var usage []*PodUsage
	var usageErr error
	if c.cfg.Metrics == nil {
		usageErr = errNoPipeline
	} else {
		usage, usageErr = c.cfg.Metrics.PodMetrics(ctx, a.Namespace, selector)
	}
	var firstErr error
	invalid := 0
	for _, m := range spec.Metrics {
		p, status, err := c.proposal(m, current, pods, usage, usageErr)
		if err != nil {
			invalid++
			c.d.Recorder.Eventf(a, api.EventWarning, api.ReasonFailedGetResourceMetric, "failed to get %s utilization: %v", m.Resource.Name, err)
			if firstErr == nil {
				firstErr = err
				res.active = api.Condition{Type: api.AutoscalerScalingActive, Status: api.ConditionFalse, Reason: api.ReasonFailedGetResourceMetric,
					Message: fmt.Sprintf("the HPA was unable to compute the replica count: %v", err)}
			}
			continue
		}
		res.statuses = append(res.statuses, status)
		if p.Replicas > res.replicas {
			res.replicas, res.metric, res.timestamp = p.Replicas, metricName(m), p.Timestamp
		}
	}
	if invalid == len(spec.Metrics) || (invalid > 0 && res.replicas < current) {
		return res, fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(spec.Metrics), firstErr)
	}
	res.active = api.Condition{Type: api.AutoscalerScalingActive, Status: api.ConditionTrue, Reason: api.ReasonValidMetricFound,
		Message: "the HPA was able to successfully calculate a replica count from " + res.metric}
	return res, nil
}

// proposal runs the calculator for one metric.
func (c *Controller) proposal(m api.MetricSpec, current int32, pods []*api.Pod, usage []*PodUsage, usageErr error) (Proposal, api.MetricStatus, error) {
	name := m.Resource.Name
	status := api.MetricStatus{Name: name}
	if usageErr != nil {
		return Proposal{}, status, fmt.Errorf("unable to get metrics for resource %s: %w", name, usageErr)
	}
	t := m.Resource.Target
	switch t.Type {
	case api.UtilizationMetric:
		if t.AverageUtilization == nil {
			return Proposal{}, status, fmt.Errorf("metric %s: no averageUtilization target", name)
		}
		p, err := c.calc.ResourceReplicas(current, *t.AverageUtilization, name, pods, usage)
		if err != nil {
			return p, status, err
		}
		status.AverageUtilization, status.AverageValue = api.Ptr(p.Utilization), api.Ptr(milliQuantity(name, p.AverageMilli))
		return p, status, nil
	case api.AverageValueMetric:
		if t.AverageValue == nil {
			return Proposal{}, status, fmt.Errorf("metric %s: no averageValue target", name)
		}
		p, err := c.calc.RawResourceReplicas(current, t.AverageValue.MilliValue(), name, pods, usage)
		if err != nil {
			return p, status, err
		}
		status.AverageValue = api.Ptr(milliQuantity(name, p.AverageMilli))
		return p, status, nil
	}
	return Proposal{}, status, fmt.Errorf("metric %s: unsupported target type %q", name, t.Type)
}

// milliQuantity shows CPU in cores (millicores) and memory in bytes.
func milliQuantity(name api.ResourceName, milli int64) resource.Quantity {
	if name == api.ResourceMemory {
		return resource.NewQuantity(milli/1000, resource.BinarySI)
	}
	return resource.NewMilliQuantity(milli, resource.DecimalSI)
}

func metricName(m api.MetricSpec) string {
	if m.Resource.Target.Type == api.AverageValueMetric {
		return string(m.Resource.Name) + " resource"
	}
	return string(m.Resource.Name) + " resource utilization (percentage of request)"
}
