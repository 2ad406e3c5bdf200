package docker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/docker/docker/api/types/container"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Stats samples the container's usage once.
func (r *Runtime) Stats(ctx context.Context, id string) (runtime.Usage, error) {
	resp, err := r.c.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return runtime.Usage{}, wrap(err, "docker runtime: stats of container %q", id)
	}
	defer resp.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return runtime.Usage{}, fmt.Errorf("docker runtime: stats of container %q: %w", id, err)
	}
	return runtime.Usage{
		CPUUsageNanos: s.CPUStats.CPUUsage.TotalUsage,
		MemoryBytes:   workingSet(s.MemoryStats),
		Timestamp:     s.Read,
	}, nil
}

// workingSet is memory usage minus reclaimable page cache, as Kubernetes
// reports it: cgroup v1 reports total_inactive_file, v2 inactive_file.
func workingSet(m container.MemoryStats) uint64 {
	inactive, ok := m.Stats["total_inactive_file"]
	if !ok {
		inactive = m.Stats["inactive_file"]
	}
	if inactive > m.Usage {
		return 0
	}
	return m.Usage - inactive
}
