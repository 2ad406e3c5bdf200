package agent

import (
	"context"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// statsCache samples every running container's usage periodically; two
// samples give the cpu rate.
type statsCache struct {
	mu   sync.Mutex
	last map[string]runtime.Usage // container id -> previous sample
	rate map[string]usage
}

type usage struct {
	cpuMilli int64
	memory   int64
}

func newStatsCache() *statsCache {
	return &statsCache{last: map[string]runtime.Usage{}, rate: map[string]usage{}}
}

func (s *statsCache) get(id string) usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate[id]
}

func (s *statsCache) run(ctx context.Context, rt runtime.Runtime, f runtime.Filter, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.sample(ctx, rt, f)
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
		r := usage{memory: int64(u.MemoryBytes)}
		if prev, ok := s.last[c.ID]; ok && u.Timestamp.After(prev.Timestamp) && u.CPUUsageNanos >= prev.CPUUsageNanos {
			r.cpuMilli = int64(float64(u.CPUUsageNanos-prev.CPUUsageNanos) / float64(u.Timestamp.Sub(prev.Timestamp).Nanoseconds()) * 1000)
		} else {
			r.cpuMilli = s.rate[c.ID].cpuMilli
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
