package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Exec runs cmd in the container and waits up to timeout (0 = only ctx).
// On timeout the command is left running: the engine cannot kill an exec.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	if len(cmd) == 0 {
		return runtime.ExecResult{}, errors.New("docker runtime: exec: empty command")
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	created, err := r.c.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return runtime.ExecResult{}, wrap(err, "docker runtime: exec in container %q", id)
	}
	att, err := r.c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return runtime.ExecResult{}, wrap(err, "docker runtime: exec in container %q", id)
	}
	defer att.Close()
	// Reads on the hijacked connection ignore ctx: closing it ends them.
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()

	out := &runtime.LimitedBuffer{Max: runtime.MaxExecOutput}
	_, copyErr := stdcopy.StdCopy(out, out, att.Reader)
	if ctx.Err() != nil {
		return runtime.ExecResult{Output: out.Bytes()}, fmt.Errorf("docker runtime: exec %q in container %q: %w", cmd[0], id, ctx.Err())
	}
	if copyErr != nil {
		return runtime.ExecResult{}, fmt.Errorf("docker runtime: exec %q in container %q: reading output: %w", cmd[0], id, copyErr)
	}
	// The stream ends a moment before the engine records the exit code.
	for {
		in, err := r.c.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			return runtime.ExecResult{}, wrap(err, "docker runtime: exec in container %q", id)
		}
		if !in.Running {
			return runtime.ExecResult{ExitCode: in.ExitCode, Output: out.Bytes()}, nil
		}
		select {
		case <-ctx.Done():
			return runtime.ExecResult{Output: out.Bytes()}, fmt.Errorf("docker runtime: exec %q in container %q: %w", cmd[0], id, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
