package autoscaler

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// The replica calculator is a port of Kubernetes'
// pkg/controller/podautoscaler/replica_calculator.go (resource metrics
// only): the same grouping of pods, the same treatment of missing metrics
// and unready pods, the same integer rounding, so that its test cases carry
// over unchanged (replica_calculator_test.go). It is pure: the caller lists
// the pods and their usage; nothing here does I/O.

// Kubernetes' defaults (kube-controller-manager flags of the same names).
const (
	DefaultTolerance                     = 0.1
	DefaultCPUInitializationPeriod       = 5 * time.Minute
	DefaultDelayOfInitialReadinessStatus = 30 * time.Second
)

// Calculator errors that the controller maps to condition reasons.
var (
	errNoMetrics      = errors.New("no metrics returned from resource metrics API")
	errNoPods         = errors.New("no pods returned by selector while calculating replica count")
	errNoReadyMetrics = errors.New("did not receive metrics for any ready pods")
	errDisjoint       = errors.New("no metrics returned matched known pods")
)

// ReplicaCalculator proposes a replica count from pod usage.
type ReplicaCalculator struct {
	// Tolerance is the fraction of the target within which no scaling happens.
	Tolerance float64
	// CPUInitializationPeriod: a pod started less than this long ago has its
	// CPU sample ignored unless it is ready and a full metric window has
	// passed since it became so (start-up bursts do not count).
	CPUInitializationPeriod time.Duration
	// DelayOfInitialReadinessStatus: after the initialisation period, an
	// unready pod whose readiness last changed within this delay of its
	// start has never been ready, and its CPU sample is ignored.
	DelayOfInitialReadinessStatus time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// NewReplicaCalculator returns a calculator with Kubernetes' defaults.
func NewReplicaCalculator() *ReplicaCalculator {
	return &ReplicaCalculator{
		Tolerance:                     DefaultTolerance,
		CPUInitializationPeriod:       DefaultCPUInitializationPeriod,
		DelayOfInitialReadinessStatus: DefaultDelayOfInitialReadinessStatus,
	}
}

// Proposal is what the calculator found for one metric.
type Proposal struct {
	Replicas int32
	// Utilization is the average usage in percent of requests (utilisation
	// targets only), truncated as Kubernetes does.
	Utilization int32
	// AverageMilli is the average usage per pod, in milli-units (millicores,
	// millibytes).
	AverageMilli int64
	// Timestamp is when the metrics were sampled.
	Timestamp time.Time
}

// podMetric is one pod's usage of one resource in milli-units.
type podMetric struct {
	value     int64
	timestamp time.Time
	window    time.Duration
}

type podMetricsInfo map[string]podMetric

// ResourceReplicas proposes a replica count for a target utilisation
// (percent of requests) of resource over pods (those matching the target's
// selector) given their usage.
func (c *ReplicaCalculator) ResourceReplicas(current, targetUtilization int32, res api.ResourceName, pods []*api.Pod, usage []*PodUsage) (Proposal, error) {
	metrics, timestamp, err := resourceMetrics(res, usage)
	if err != nil {
		return Proposal{}, fmt.Errorf("unable to get metrics for resource %s: %w", res, err)
	}
	if len(pods) == 0 {
		return Proposal{}, errNoPods
	}
	ready, ignored, missing := c.groupPods(pods, metrics, res)
	removeMetrics(metrics, ignored)
	requests, err := podRequests(pods, res)
	if err != nil {
		return Proposal{}, err
	}
	if len(metrics) == 0 {
		return Proposal{}, errNoReadyMetrics
	}
	ratio, utilization, raw, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return Proposal{}, err
	}
	p := Proposal{Replicas: current, Utilization: utilization, AverageMilli: raw, Timestamp: timestamp}

	rebalanceIgnored := len(ignored) > 0 && ratio > 1.0
	if !rebalanceIgnored && len(missing) == 0 {
		if math.Abs(1.0-ratio) > c.Tolerance {
			p.Replicas = int32(math.Ceil(ratio * float64(ready)))
		}
		return p, nil
	}
	fillMissing(metrics, missing, ratio, func(pod string) int64 { return requests[pod] })
	if rebalanceIgnored {
		// On a scale-up, unready pods count as using nothing.
		for pod := range ignored {
			metrics[pod] = podMetric{}
		}
	}
	newRatio, _, _, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return Proposal{}, err
	}
	if !c.changesInSameDirection(ratio, newRatio) {
		return p, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		// The larger pod count would flip the direction of scaling.
		return p, nil
	}
	p.Replicas = n
	return p, nil
}

// RawResourceReplicas proposes a replica count for a target average value
// per pod (milli-units) of resource.
func (c *ReplicaCalculator) RawResourceReplicas(current int32, targetAverageMilli int64, res api.ResourceName, pods []*api.Pod, usage []*PodUsage) (Proposal, error) {
	metrics, timestamp, err := resourceMetrics(res, usage)
	if err != nil {
		return Proposal{}, fmt.Errorf("unable to get metrics for resource %s: %w", res, err)
	}
	if len(pods) == 0 {
		return Proposal{}, errNoPods
	}
	ready, ignored, missing := c.groupPods(pods, metrics, res)
	removeMetrics(metrics, ignored)
	if len(metrics) == 0 {
		return Proposal{}, errNoReadyMetrics
	}
	ratio, average := usageRatio(metrics, targetAverageMilli)
	p := Proposal{Replicas: current, AverageMilli: average, Timestamp: timestamp}

	rebalanceIgnored := len(ignored) > 0 && ratio > 1.0
	if !rebalanceIgnored && len(missing) == 0 {
		if math.Abs(1.0-ratio) > c.Tolerance {
			p.Replicas = int32(math.Ceil(ratio * float64(ready)))
		}
		return p, nil
	}
	// Kubernetes' plain-metric path treats missing pods as a scale-up
	// whenever the ratio is not below 1 (it has no "exactly 1" case).
	up := ratio >= 1.0
	for pod := range missing {
		if up {
			metrics[pod] = podMetric{}
		} else {
			metrics[pod] = podMetric{value: targetAverageMilli}
		}
	}
	if rebalanceIgnored {
		for pod := range ignored {
			metrics[pod] = podMetric{}
		}
	}
	newRatio, _ := usageRatio(metrics, targetAverageMilli)
	if !c.changesInSameDirection(ratio, newRatio) {
		return p, nil
	}
	p.Replicas = int32(math.Ceil(newRatio * float64(len(metrics))))
	return p, nil
}

// changesInSameDirection reports whether the ratio recomputed with missing
// and unready pods still asks for a change, in the direction of the first.
func (c *ReplicaCalculator) changesInSameDirection(ratio, newRatio float64) bool {
	if math.Abs(1.0-newRatio) <= c.Tolerance {
		return false
	}
	return !(ratio < 1.0 && newRatio > 1.0) && !(ratio > 1.0 && newRatio < 1.0)
}

// fillMissing gives pods without metrics the most conservative value: all
// of their request on a scale-down, nothing on a scale-up.
func fillMissing(metrics podMetricsInfo, missing map[string]bool, ratio float64, request func(string) int64) {
	for pod := range missing {
		switch {
		case ratio < 1.0:
			metrics[pod] = podMetric{value: request(pod)}
		case ratio > 1.0:
			metrics[pod] = podMetric{}
		}
	}
}

// groupPods sorts pods as Kubernetes does: deleted and failed pods are left
// out; pending pods are ignored; pods without metrics are missing; for CPU,
// pods that are not ready or still initialising are ignored.
func (c *ReplicaCalculator) groupPods(pods []*api.Pod, metrics podMetricsInfo, res api.ResourceName) (ready int, ignored, missing map[string]bool) {
	ignored, missing = map[string]bool{}, map[string]bool{}
	now := c.now()
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == api.PodFailed {
			continue
		}
		if pod.Status.Phase == api.PodPending {
			ignored[pod.Name] = true
			continue
		}
		m, found := metrics[pod.Name]
		if !found {
			missing[pod.Name] = true
			continue
		}
		if res == api.ResourceCPU && c.ignoreCPUSample(pod, m, now) {
			ignored[pod.Name] = true
			continue
		}
		ready++
	}
	return ready, ignored, missing
}

// ignoreCPUSample reports whether a pod's CPU sample is unrepresentative:
// taken while it started up, or from a pod that has never been ready.
func (c *ReplicaCalculator) ignoreCPUSample(pod *api.Pod, m podMetric, now time.Time) bool {
	cond := api.FindCondition(pod.Status.Conditions, api.PodReady)
	start := pod.Status.StartTime
	if cond == nil || start == nil {
		return true
	}
	if start.Add(c.CPUInitializationPeriod).After(now) {
		// Still initialising: count only a ready pod with a full window of
		// metrics since it became ready.
		return cond.Status == api.ConditionFalse || m.timestamp.Before(cond.LastTransitionTime.Add(m.window))
	}
	// Initialised: ignore a pod that is unready and has never been ready.
	return cond.Status == api.ConditionFalse && start.Add(c.DelayOfInitialReadinessStatus).After(cond.LastTransitionTime)
}

func (c *ReplicaCalculator) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// resourceMetrics sums each pod's container usage of res (milli-units) and
// returns the first sample's timestamp, as Kubernetes' metrics client does.
func resourceMetrics(res api.ResourceName, usage []*PodUsage) (podMetricsInfo, time.Time, error) {
	if len(usage) == 0 {
		return nil, time.Time{}, errNoMetrics
	}
	metrics := make(podMetricsInfo, len(usage))
	for _, u := range usage {
		var sum int64
		for _, c := range u.Containers {
			switch res {
			case api.ResourceCPU:
				sum += c.CPUMilli
			case api.ResourceMemory:
				sum += c.MemoryBytes * 1000
			}
		}
		metrics[u.Name] = podMetric{value: sum, timestamp: u.Timestamp, window: u.Window}
	}
	return metrics, usage[0].Timestamp, nil
}

// podRequests sums each pod's container requests of res (milli-units); a
// container without a request makes utilisation undefined.
func podRequests(pods []*api.Pod, res api.ResourceName) (map[string]int64, error) {
	requests := make(map[string]int64, len(pods))
	for _, pod := range pods {
		var sum int64
		for _, c := range pod.Spec.Containers {
			q, ok := c.Resources.Requests[res]
			if !ok {
				return nil, fmt.Errorf("missing request for %s in container %s of pod %s", res, c.Name, pod.Name)
			}
			sum += q.MilliValue()
		}
		requests[pod.Name] = sum
	}
	return requests, nil
}

// utilizationRatio is usage over requests of the pods that have both, as a
// whole percentage (truncated) and as a ratio of that percentage to the
// target; metrics of pods without requests are extraneous and skipped.
func utilizationRatio(metrics podMetricsInfo, requests map[string]int64, target int32) (ratio float64, utilization int32, rawAverage int64, err error) {
	var metricsTotal, requestsTotal int64
	n := 0
	for pod, m := range metrics {
		r, ok := requests[pod]
		if !ok {
			continue
		}
		metricsTotal += m.value
		requestsTotal += r
		n++
	}
	if requestsTotal == 0 {
		return 0, 0, 0, errDisjoint
	}
	utilization = int32(metricsTotal * 100 / requestsTotal)
	return float64(utilization) / float64(target), utilization, metricsTotal / int64(n), nil
}

// usageRatio is the average value per pod (truncated) over the target.
func usageRatio(metrics podMetricsInfo, target int64) (ratio float64, average int64) {
	var total int64
	for _, m := range metrics {
		total += m.value
	}
	average = total / int64(len(metrics))
	return float64(average) / float64(target), average
}

func removeMetrics(metrics podMetricsInfo, pods map[string]bool) {
	for pod := range pods {
		delete(metrics, pod)
	}
}
