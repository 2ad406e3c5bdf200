package docker

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Logs writes the container's stdout and stderr lines to w. With Follow it
// returns when the container stops or ctx ends (nil: the caller stopped
// reading).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	o := container.LogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Follow:     opts.Follow,
		Timestamps: opts.Timestamps,
		Tail:       "all",
	}
	if opts.TailLines > 0 {
		o.Tail = strconv.FormatInt(opts.TailLines, 10)
	}
	if !opts.Since.IsZero() {
		o.Since = fmt.Sprintf("%d.%09d", opts.Since.Unix(), opts.Since.Nanosecond())
	}
	rc, err := r.c.ContainerLogs(ctx, id, o)
	if err != nil {
		return wrap(err, "docker runtime: logs of container %q", id)
	}
	defer rc.Close()
	// Containers never get a TTY, so the stream is always multiplexed.
	if _, err := stdcopy.StdCopy(w, w, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("docker runtime: logs of container %q: %w", id, err)
	}
	return nil
}
