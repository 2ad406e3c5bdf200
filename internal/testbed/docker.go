//go:build linux

package testbed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// dockerSweeper removes the containers and volumes of a run's nodes: the
// agents started in a test bed's hosts name their nodes <run>-<host>, and
// the Docker runtime labels everything it makes with its node's name
// (runtime.LabelNode). Without a Docker engine there is nothing to remove
// and the sweeper does nothing.
type dockerSweeper struct {
	once sync.Once
	cli  *client.Client // nil: no engine answers
	// mu serialises remove: the Docker client negotiates its API version
	// on first use without a lock (two halting instances raced on it).
	mu sync.Mutex
}

// client connects on first use; a machine without Docker gets nil.
func (d *dockerSweeper) client(ctx context.Context) *client.Client {
	d.once.Do(func() {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return
		}
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := cli.Ping(pingCtx); err != nil {
			cli.Close()
			return
		}
		d.cli = cli
	})
	return d.cli
}

func (d *dockerSweeper) close() {
	if d.cli != nil {
		d.cli.Close()
	}
}

// remove force-removes every container, then every volume, labelled with
// a node name starting with nodePrefix.
func (d *dockerSweeper) remove(ctx context.Context, nodePrefix string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cli := d.client(ctx)
	if cli == nil {
		return nil
	}
	byNode := filters.NewArgs(filters.Arg("label", runtime.LabelNode))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: byNode})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		if !strings.HasPrefix(c.Labels[runtime.LabelNode], nodePrefix) {
			continue
		}
		err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, fmt.Errorf("removing container %s: %w", c.ID[:12], err))
		}
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{Filters: byNode})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("listing volumes: %w", err))...)
	}
	for _, v := range vs.Volumes {
		if !strings.HasPrefix(v.Labels[runtime.LabelNode], nodePrefix) {
			continue
		}
		if err := cli.VolumeRemove(ctx, v.Name, true); err != nil && !client.IsErrNotFound(err) {
			errs = append(errs, fmt.Errorf("removing volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}
