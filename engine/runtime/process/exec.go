//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Exec runs cmd on the host, in the pod's network namespace, with the
// container's environment and working directory, and waits up to timeout (0 = only ctx); past it the command's
// process group is killed.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (runtime.ExecResult, error) {
	c, err := r.loadContainer(id)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	if len(cmd) == 0 {
		return runtime.ExecResult{}, errors.New("process runtime: exec: empty command")
	}
	if !c.running() {
		return runtime.ExecResult{}, fmt.Errorf("process runtime: exec in container %q: the container is not running", id)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	env := containerEnv(c.rec.Config.Env)
	path, err := lookPath(cmd[0], env)
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("process runtime: exec in container %q: %w", id, err)
	}
	out := &runtime.LimitedBuffer{Max: runtime.MaxExecOutput}
	x := exec.CommandContext(ctx, path, cmd[1:]...)
	x.Args[0] = cmd[0]
	x.Env, x.Dir = env, c.rec.Config.WorkingDir
	x.Stdout, x.Stderr = out, out
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	x.Cancel = func() error { return syscall.Kill(-x.Process.Pid, syscall.SIGKILL) }
	x.WaitDelay = time.Second // children holding the output pipe
	var netns string
	if sb, err := r.loadSandbox(c.rec.SandboxID); err == nil {
		netns = sb.NetNS
	}
	if err = inNetNS(netns, x.Start); err == nil {
		err = x.Wait()
	}
	if ctx.Err() != nil {
		return runtime.ExecResult{Output: out.Bytes()}, fmt.Errorf("process runtime: exec %q in container %q: %w", cmd[0], id, ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return runtime.ExecResult{Output: out.Bytes()}, nil
	case errors.As(err, &exitErr):
		code := exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return runtime.ExecResult{ExitCode: code, Output: out.Bytes()}, nil
	default:
		return runtime.ExecResult{}, fmt.Errorf("process runtime: exec %q in container %q: %w", cmd[0], id, err)
	}
}
