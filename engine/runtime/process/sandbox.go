//go:build linux

package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// RunSandbox records a pod's sandbox. As root, a pod that is not on the
// host network gets a network namespace of its own (only lo: the pod
// network plugs it in through Sandbox.NetNS); otherwise pods share the
// host's network. Hostname, ports and DNS settings are not applied here.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	if cfg.PodUID == "" {
		return runtime.Sandbox{}, errors.New("process runtime: sandbox: pod uid is required")
	}
	rec := sandboxRecord{
		ID:        newID(),
		Config:    cfg,
		Labels:    runtime.SandboxLabels(cfg),
		State:     runtime.SandboxReady,
		CreatedAt: time.Now(),
	}
	if r.netns && !cfg.HostNetwork {
		rec.NetNS = filepath.Join(r.opts.Root, "netns", rec.ID)
		if err := newNetNS(rec.NetNS); err != nil {
			return runtime.Sandbox{}, fmt.Errorf("process runtime: sandbox of pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
		}
	}
	if err := writeJSON(r.sandboxPath(rec.ID), rec); err != nil {
		_ = removeNetNS(rec.NetNS)
		return runtime.Sandbox{}, fmt.Errorf("process runtime: creating sandbox of pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	r.log.Info("sandbox started", "pod", cfg.Namespace+"/"+cfg.Name, "sandbox", rec.ID)
	return r.sandbox(rec), nil
}

// StopSandbox stops the sandbox's running containers and marks it NotReady.
func (r *Runtime) StopSandbox(ctx context.Context, id string, timeout time.Duration) error {
	if _, err := r.loadSandbox(id); err != nil {
		return err
	}
	if err := r.forContainers(id, func(c runtime.Container) error {
		if c.State != runtime.ContainerRunning {
			return nil
		}
		return r.StopContainer(ctx, c.ID, timeout)
	}); err != nil {
		return err
	}
	defer r.lock(id)()
	rec, err := r.loadSandbox(id)
	if err != nil {
		return err
	}
	rec.State = runtime.SandboxNotReady
	if err := writeJSON(r.sandboxPath(id), rec); err != nil {
		return fmt.Errorf("process runtime: stopping sandbox %q: %w", id, err)
	}
	r.log.Info("sandbox stopped", "pod", rec.Config.Namespace+"/"+rec.Config.Name, "sandbox", id)
	return nil
}

// RemoveSandbox removes the sandbox and its containers.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	rec, err := r.loadSandbox(id)
	if err != nil {
		return err
	}
	if err := r.forContainers(id, func(c runtime.Container) error {
		if err := r.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	defer r.lock(id)()
	if rec.NetNS != "" {
		if err := removeNetNS(rec.NetNS); err != nil {
			return fmt.Errorf("process runtime: removing sandbox %q: %w", id, err)
		}
	}
	if err := os.Remove(r.sandboxPath(id)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("process runtime: sandbox %q: %w", id, runtime.ErrNotFound)
		}
		return fmt.Errorf("process runtime: removing sandbox %q: %w", id, err)
	}
	r.forgetLock(id)
	r.log.Info("sandbox removed", "pod", rec.Config.Namespace+"/"+rec.Config.Name, "sandbox", id)
	return nil
}

// ListSandboxes reports the sandboxes passing f.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.Filter) ([]runtime.Sandbox, error) {
	entries, err := os.ReadDir(filepath.Join(r.opts.Root, "sandboxes"))
	if err != nil {
		return nil, fmt.Errorf("process runtime: listing sandboxes: %w", err)
	}
	var out []runtime.Sandbox
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		rec, err := r.loadSandbox(id)
		if errors.Is(err, runtime.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.Matches(rec.Labels) {
			out = append(out, r.sandbox(rec))
		}
	}
	slices.SortFunc(out, func(a, b runtime.Sandbox) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// sandbox is the runtime's view of rec. A sandbox whose namespace is gone
// (the host rebooted: the bind mount with it) is NotReady, to be replaced.
func (r *Runtime) sandbox(rec sandboxRecord) runtime.Sandbox {
	ip := r.opts.NodeIP
	if rec.NetNS != "" {
		ip = "" // the pod network's
		if rec.State == runtime.SandboxReady && !isNetNS(rec.NetNS) {
			rec.State = runtime.SandboxNotReady
		}
	}
	return runtime.Sandbox{
		NetNS:     rec.NetNS,
		ID:        rec.ID,
		PodUID:    rec.Config.PodUID,
		Namespace: rec.Config.Namespace,
		Name:      rec.Config.Name,
		Node:      rec.Config.Node,
		IP:        ip,
		State:     rec.State,
		CreatedAt: rec.CreatedAt,
		Labels:    rec.Labels,
	}
}

// forContainers calls fn for each container of the sandbox, all at once
// (stops wait out grace periods side by side, as the agent expects).
func (r *Runtime) forContainers(sandboxID string, fn func(runtime.Container) error) error {
	all, err := r.ListContainers(context.Background(), runtime.Filter{})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(all))
	for i, c := range all {
		if c.SandboxID == sandboxID {
			wg.Go(func() { errs[i] = fn(c) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}
