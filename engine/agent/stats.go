package agent

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// statsCache samples every running container's usage periodically; two
// samples give the cpu rate. It serves the agent's stats endpoint and
// makes the usage reports sent to the API server (usage.go).
type statsCache struct {
	mu   sync.Mutex
	last map[string]runtime.Usage // container id -> previous sample
	rate map[string]usage
}

type usage struct {
	cpuMilli int64
	memory   int64
	// hasRate is false until two samples gave a cpu rate: such a
	// container is left out of reports rather than reported idle.
	hasRate bool
	// The container's pod and name, from its runtime labels.
	namespace, pod, podUID, container string
}

func newStatsCache() *statsCache {
	return &statsCache{last: map[string]runtime.Usage{}, rate: map[string]usage{}}
}

func (s *statsCache) get(id string) usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate[id]
}

// run samples every interval, calling after (when not nil) once each
// sample is taken.
func (s *statsCache) run(ctx context.Context, rt runtime.Runtime, f runtime.Filter, every time.Duration, after func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sample(ctx, rt, f)
		if after != nil {
			after(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *statsCache) sample(ctx context.Context, rt runtime.Runtime, f runtime.Filter) {
	cs, err := rt.ListContainers(ctx, f)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if c.State != runtime.ContainerRunning {
			continue
		}
		u, err := rt.Stats(ctx, c.ID)
		if err != nil {
			continue
		}
		seen[c.ID] = true
		s.mu.Lock()
		r := usage{memory: int64(u.MemoryBytes), namespace: c.Labels[runtime.LabelPodNamespace], pod: c.Labels[runtime.LabelPodName],
			podUID: c.PodUID, container: c.Labels[runtime.LabelContainerName]}
		if r.container == "" {
			r.container = c.Name
		}
		if prev, ok := s.last[c.ID]; ok && u.Timestamp.After(prev.Timestamp) && u.CPUUsageNanos >= prev.CPUUsageNanos {
			r.cpuMilli = int64(float64(u.CPUUsageNanos-prev.CPUUsageNanos) / float64(u.Timestamp.Sub(prev.Timestamp).Nanoseconds()) * 1000)
			r.hasRate = true
		} else {
			r.cpuMilli, r.hasRate = s.rate[c.ID].cpuMilli, s.rate[c.ID].hasRate
		}
		s.last[c.ID] = u
		s.rate[c.ID] = r
		s.mu.Unlock()
	}
	s.mu.Lock()
	for id := range s.last {
		if !seen[id] {
			delete(s.last, id)
			delete(s.rate, id)
		}
	}
	s.mu.Unlock()
}

// report is the node's usage as of the last sample: every pod's running
// containers that have a cpu rate, and the node's as their sum (the usage
// of the node's pods, not of the host: several nodes may share a host).
func (s *statsCache) report(node string, now time.Time, window time.Duration) *api.NodeMetricsReport {
	s.mu.Lock()
	byPod := map[string]*api.PodUsage{}
	var total usage
	for _, u := range s.rate {
		if !u.hasRate || u.namespace == "" || u.pod == "" {
			continue
		}
		key := u.namespace + "/" + u.pod + "/" + u.podUID
		p := byPod[key]
		if p == nil {
			p = &api.PodUsage{Namespace: u.namespace, Name: u.pod, UID: u.podUID}
			byPod[key] = p
		}
		p.Containers = append(p.Containers, api.ContainerMetrics{Name: u.container, Usage: u.list()})
		total.cpuMilli += u.cpuMilli
		total.memory += u.memory
	}
	s.mu.Unlock()
	r := &api.NodeMetricsReport{Node: node, Timestamp: now.UTC(), WindowSeconds: max(int64(window.Round(time.Second)/time.Second), 1),
		Usage: total.list(), Pods: make([]api.PodUsage, 0, len(byPod))}
	for _, p := range byPod {
		sort.Slice(p.Containers, func(i, j int) bool { return p.Containers[i].Name < p.Containers[j].Name })
		r.Pods = append(r.Pods, *p)
	}
	sort.Slice(r.Pods, func(i, j int) bool {
		a, b := &r.Pods[i], &r.Pods[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && (a.Name < b.Name || a.Name == b.Name && a.UID < b.UID)
	})
	return r
}

func (u usage) list() api.ResourceList {
	return api.ResourceList{
		api.ResourceCPU:    resource.NewMilliQuantity(u.cpuMilli, resource.DecimalSI),
		api.ResourceMemory: resource.NewQuantity(u.memory, resource.BinarySI),
	}
}
