//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// CreateContainer records a container of the sandbox. Its Command is
// required (there is no image to take one from); Args follow it.
func (r *Runtime) CreateContainer(ctx context.Context, sb runtime.Sandbox, cfg runtime.ContainerConfig) (string, error) {
	switch {
	case cfg.Image != "":
		return "", fmt.Errorf("process runtime: container %q: images are not supported (image %q); leave the image empty and give a command", cfg.Name, cfg.Image)
	case len(cfg.Command) == 0:
		return "", fmt.Errorf("process runtime: container %q: a command is required (there is no image to take one from)", cfg.Name)
	case len(cfg.Mounts) > 0:
		return "", fmt.Errorf("process runtime: volume mounts are not supported; use the docker runtime (container %q)", cfg.Name)
	case !cfg.Security.IsZero():
		return "", fmt.Errorf("%w: process runtime: security contexts are not supported (processes run as the agent's user); use the docker runtime (container %q)", runtime.ErrConfig, cfg.Name)
	}
	if _, err := r.loadSandbox(sb.ID); err != nil {
		return "", err
	}
	id := newID()
	dir := r.containerDir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("process runtime: creating container %q: %w", cfg.Name, err)
	}
	rec := containerRecord{
		ID:        id,
		SandboxID: sb.ID,
		PodUID:    sb.PodUID,
		Config:    cfg,
		Labels:    runtime.ContainerLabels(sb, cfg),
		CreatedAt: time.Now(),
	}
	if err := writeJSON(filepath.Join(dir, configFile), rec); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("process runtime: creating container %q: %w", cfg.Name, err)
	}
	r.log.Debug("container created", "pod", sb.Namespace+"/"+sb.Name, "container", cfg.Name, "id", id)
	return id, nil
}

// StartContainer starts the container's shim, which starts the process.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	defer r.lock(id)()
	c, err := r.loadContainer(id)
	if err != nil {
		return err
	}
	if c.state != nil {
		return fmt.Errorf("process runtime: container %q has already been started; create a new one", id)
	}
	cfg := c.rec.Config
	log := r.log.With("pod", c.rec.Labels[runtime.LabelPodNamespace]+"/"+c.rec.Labels[runtime.LabelPodName], "container", cfg.Name)
	// Fail here, loudly, rather than with exit code 127 in the shim.
	if _, err := lookPath(cfg.Command[0], containerEnv(cfg.Env)); err != nil {
		return fmt.Errorf("process runtime: starting container %q: %w", cfg.Name, err)
	}
	if cfg.WorkingDir != "" {
		if fi, err := os.Stat(cfg.WorkingDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("process runtime: starting container %q: working directory %q is not a directory", cfg.Name, cfg.WorkingDir)
		}
	}

	sb, err := r.loadSandbox(c.rec.SandboxID)
	if err != nil {
		return fmt.Errorf("process runtime: starting container %q: %w", cfg.Name, err)
	}
	st := stateRecord{}
	if r.cg != nil {
		st.ShimCgroups = r.cg.shims
		if st.Cgroups, err = r.cg.create(id, cfg.Resources); err != nil {
			_ = removeCgroups(st.Cgroups)
			return fmt.Errorf("process runtime: starting container %q: cgroups: %w", cfg.Name, err)
		}
	}
	shim, gate, err := r.startShim(id, sb.NetNS)
	if err != nil {
		_ = removeCgroups(st.Cgroups)
		return fmt.Errorf("process runtime: starting container %q: %w", cfg.Name, err)
	}
	// Closing the gate without "g" makes the shim exit unstarted.
	abort := func(err error) error {
		gate.Close()
		_ = shim.Wait()
		_ = removeCgroups(st.Cgroups)
		return fmt.Errorf("process runtime: starting container %q: %w", cfg.Name, err)
	}
	st.Pid = shim.Process.Pid
	ps, err := readStat(st.Pid)
	if err != nil {
		return abort(err)
	}
	st.StartTicks = ps.startTicks
	st.StartedAt = time.Now()
	if err := writeJSON(filepath.Join(r.containerDir(id), stateFile), st); err != nil {
		return abort(err)
	}
	if _, err := gate.Write([]byte("g")); err != nil {
		return abort(err)
	}
	gate.Close()
	// Reap the shim when it ends (it records the exit itself); an adopted
	// shim is reaped by init instead.
	go func() { _ = shim.Wait() }()
	log.Debug("container started", "id", id, "pid", st.Pid)
	return nil
}

// startShim starts this binary as the container's shim, in a session of
// its own (it outlives the agent, and its group is the container), held at
// the gate until the returned pipe gets "g". netns is the pod's network
// namespace, which the shim and so the process start in ("" = the host's).
func (r *Runtime) startShim(id, netns string) (*exec.Cmd, *os.File, error) {
	dir := r.containerDir(id)
	out, err := os.OpenFile(filepath.Join(dir, "shim.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	defer out.Close()
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer gateR.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe", // this binary, even if replaced on disk since
		Args:        []string{shimArg0, dir},
		Env:         []string{shimEnv + "=" + dir},
		Dir:         "/",
		Stdout:      out,
		Stderr:      out,
		ExtraFiles:  []*os.File{gateR},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := inNetNS(netns, cmd.Start); err != nil {
		gateW.Close()
		return nil, nil, fmt.Errorf("starting the shim: %w", err)
	}
	return cmd, gateW, nil
}

// StopContainer sends SIGTERM to the container's process group, waits up
// to timeout for the shim to record the exit, then SIGKILLs the group.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	defer r.lock(id)()
	c, err := r.loadContainer(id)
	if err != nil {
		return err
	}
	if !c.running() {
		return nil
	}
	st := *c.state
	if err := killGroup(st.Pid, st.StartTicks, syscall.SIGTERM); err != nil {
		return fmt.Errorf("process runtime: stopping container %q: %w", id, err)
	}
	if r.waitDone(ctx, id, st, timeout) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("process runtime: stopping container %q: %w", id, ctx.Err())
	}
	if err := killGroup(st.Pid, st.StartTicks, syscall.SIGKILL); err != nil {
		return fmt.Errorf("process runtime: stopping container %q: %w", id, err)
	}
	// The shim died with the group: the agent records the exit.
	if !r.waitDone(ctx, id, st, 10*time.Second) {
		return fmt.Errorf("process runtime: stopping container %q: the process group survived SIGKILL", id)
	}
	r.recordKilled(id, "killed after the grace period of "+timeout.String())
	r.log.Debug("container killed after its grace period", "container", c.rec.Config.Name, "id", id)
	return nil
}

// waitDone waits until the container's exit is recorded or its shim is
// gone.
func (r *Runtime) waitDone(ctx context.Context, id string, st stateRecord, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	exitPath := filepath.Join(r.containerDir(id), exitFile)
	for {
		if _, err := os.Stat(exitPath); err == nil || !alive(st.Pid, st.StartTicks) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordKilled writes the exit record of a group the agent SIGKILLed,
// unless the shim managed to write one.
func (r *Runtime) recordKilled(id, msg string) {
	path := filepath.Join(r.containerDir(id), exitFile)
	if _, err := os.Stat(path); err == nil {
		return
	}
	ex := exitRecord{ExitCode: 128 + int(syscall.SIGKILL), Signal: syscall.SIGKILL.String(), Message: msg, FinishedAt: time.Now()}
	if err := writeJSON(path, ex); err != nil {
		r.log.Warn("recording a killed container's exit", "id", id, "error", err)
	}
}

// RemoveContainer kills the container if it runs and deletes everything
// about it.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	defer r.lock(id)()
	c, err := r.loadContainer(id)
	if err != nil {
		return err
	}
	if c.state != nil {
		st := *c.state
		if err := killGroup(st.Pid, st.StartTicks, syscall.SIGKILL); err != nil {
			return fmt.Errorf("process runtime: removing container %q: %w", id, err)
		}
		if !r.waitDone(ctx, id, st, 10*time.Second) {
			return fmt.Errorf("process runtime: removing container %q: its process survived SIGKILL", id)
		}
		// Leftovers of a group whose leader is gone (daemonised children).
		killStragglers(st.Pid, st.StartTicks, -1)
		if err := removeCgroups(st.Cgroups); err != nil {
			r.log.Warn("removing a container's cgroups", "id", id, "error", err)
		}
	}
	if err := os.RemoveAll(r.containerDir(id)); err != nil {
		return fmt.Errorf("process runtime: removing container %q: %w", id, err)
	}
	r.forgetLock(id)
	r.log.Debug("container removed", "container", c.rec.Config.Name, "id", id)
	return nil
}

// ListContainers reports the containers passing f, in every state.
func (r *Runtime) ListContainers(ctx context.Context, f runtime.Filter) ([]runtime.Container, error) {
	entries, err := os.ReadDir(filepath.Join(r.opts.Root, "containers"))
	if err != nil {
		return nil, fmt.Errorf("process runtime: listing containers: %w", err)
	}
	var out []runtime.Container
	for _, e := range entries {
		c, err := r.loadContainer(e.Name())
		if errors.Is(err, runtime.ErrNotFound) { // removed meanwhile, or not ours
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.Matches(c.rec.Labels) {
			out = append(out, c.status())
		}
	}
	slices.SortFunc(out, func(a, b runtime.Container) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// InspectContainer reports one container.
func (r *Runtime) InspectContainer(ctx context.Context, id string) (runtime.Container, error) {
	c, err := r.loadContainer(id)
	if err != nil {
		return runtime.Container{}, err
	}
	return c.status(), nil
}
