package simnode

import (
	"context"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Annotations steering a simulated pod's reported usage (per container).
const (
	// AnnotationCPU is each container's cpu use ("300m"); default half
	// its cpu request, or 10m without one.
	AnnotationCPU = "sim.maestro.dev/cpu"
	// AnnotationMemory is each container's memory use ("200Mi"); default
	// half its memory request, or 16Mi without one.
	AnnotationMemory = "sim.maestro.dev/memory"
)

// Synthetic usage of a container without a request or annotation.
var (
	defaultCPU    = resource.MustParse("10m")
	defaultMemory = resource.MustParse("16Mi")
)

// UsageReport is the synthetic usage report of a simulated node running
// pods: what its agent would send (the benchmark of the metrics pipeline
// sends it too).
func UsageReport(node string, pods []*api.Pod, now time.Time, window time.Duration) *api.NodeMetricsReport {
	r := &api.NodeMetricsReport{Node: node, Timestamp: now.UTC(), WindowSeconds: max(int64(window/time.Second), 1),
		Pods: make([]api.PodUsage, 0, len(pods))}
	var cpu, mem resource.Quantity
	for _, p := range pods {
		if p.Spec.NodeName != node || p.DeletionTimestamp != nil || p.Status.Phase != api.PodRunning && p.Status.Phase != "" {
			continue
		}
		pu := api.PodUsage{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Containers: make([]api.ContainerMetrics, len(p.Spec.Containers))}
		for i, c := range p.Spec.Containers {
			u := api.ResourceList{
				api.ResourceCPU:    syntheticUsage(p.Annotations[AnnotationCPU], c.Resources.Requests, api.ResourceCPU, defaultCPU),
				api.ResourceMemory: syntheticUsage(p.Annotations[AnnotationMemory], c.Resources.Requests, api.ResourceMemory, defaultMemory),
			}
			cpu.Add(u[api.ResourceCPU])
			mem.Add(u[api.ResourceMemory])
			pu.Containers[i] = api.ContainerMetrics{Name: c.Name, Usage: u}
		}
		r.Pods = append(r.Pods, pu)
	}
	r.Usage = api.ResourceList{api.ResourceCPU: cpu, api.ResourceMemory: resource.NewQuantity(mem.Value(), resource.BinarySI)}
	return r
}

func syntheticUsage(annotation string, requests api.ResourceList, name api.ResourceName, def resource.Quantity) resource.Quantity {
	if q, err := resource.ParseQuantity(annotation); err == nil && annotation != "" {
		return q
	}
	if req, ok := requests[name]; ok && !req.IsZero() {
		return resource.NewMilliQuantity(req.MilliValue()/2, req.Format())
	}
	return def
}

// reportUsage sends every running node's synthetic usage each interval,
// from a few workers (a thousand nodes report within a fraction of it).
func (f *Fleet) reportUsage(ctx context.Context) {
	every(ctx, f.cfg.MetricsInterval, func() {
		running := f.running()
		nodes := make(chan *Node, len(running))
		for _, n := range running {
			nodes <- n
		}
		close(nodes)
		var wg sync.WaitGroup
		for range f.cfg.StatusWorkers {
			wg.Go(func() {
				for n := range nodes {
					f.reportNode(ctx, n)
				}
			})
		}
		wg.Wait()
	})
}

func (f *Fleet) reportNode(ctx context.Context, n *Node) {
	c := f.cfg.Client
	if n.Spec.Client != nil {
		c = n.Spec.Client
	}
	r := UsageReport(n.Spec.Name, f.pods.ByIndex(nodeIndex, n.Spec.Name), time.Now(), f.cfg.MetricsInterval)
	if err := c.ReportNodeMetrics(ctx, r); err != nil && ctx.Err() == nil {
		f.log.Debug("usage report failed", "node", n.Spec.Name, "err", err)
	}
}
