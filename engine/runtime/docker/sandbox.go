package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// RunSandbox starts the pod's infra container.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	if cfg.PodUID == "" {
		return runtime.Sandbox{}, errors.New("docker runtime: sandbox: pod uid is required")
	}
	log := r.log.With("pod", cfg.Namespace+"/"+cfg.Name)
	if err := r.ensureInfraImage(ctx); err != nil {
		return runtime.Sandbox{}, err
	}
	conf := &container.Config{Image: r.opts.InfraImage, Labels: runtime.SandboxLabels(cfg)}
	hc := &container.HostConfig{
		// Without "shareable" the engine (20.10+) refuses to let app
		// containers join the IPC namespace.
		IpcMode: container.IPCModeShareable,
	}
	if cfg.DNS != nil {
		hc.DNS, hc.DNSSearch, hc.DNSOptions = cfg.DNS.Servers, cfg.DNS.Searches, cfg.DNS.Options
	}
	if cfg.HostNetwork {
		// The host's hostname and ports: nothing to set or publish.
		hc.NetworkMode = network.NetworkHost
	} else {
		// A namespace of its own with only lo: the agent's pod network
		// (engine/network) adds the pod's interface through
		// Sandbox.NetNS, and publishes host ports.
		hc.NetworkMode = network.NetworkNone
		conf.Hostname = cfg.Hostname
	}

	id, err := r.create(ctx, conf, hc, objectName("POD", cfg.Name, cfg.Namespace, cfg.PodUID))
	if err != nil {
		// The cached image may be gone (pruned, removed): look again
		// next time.
		r.infraReady.Store(false)
		return runtime.Sandbox{}, fmt.Errorf("docker runtime: creating sandbox of pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	if err := r.c.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		r.removeQuietly(id)
		return runtime.Sandbox{}, fmt.Errorf("docker runtime: starting sandbox of pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
	}
	sb, err := r.inspectSandbox(ctx, id)
	if err != nil {
		return runtime.Sandbox{}, err
	}
	log.Info("sandbox started", "sandbox", short(id), "ip", sb.IP)
	return sb, nil
}

// StopSandbox stops the sandbox's containers that still run, then the
// infra container (stopping it first would cut their network).
func (r *Runtime) StopSandbox(ctx context.Context, id string, timeout time.Duration) error {
	if _, err := r.inspectSandbox(ctx, id); err != nil {
		return err
	}
	running, err := r.c.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", labelSandboxID+"="+id), filters.Arg("status", "running"))})
	if err != nil {
		return fmt.Errorf("docker runtime: listing containers of sandbox %q: %w", id, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(running))
	for i, c := range running {
		wg.Go(func() { errs[i] = r.StopContainer(ctx, c.ID, timeout) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := r.stop(ctx, id, timeout); err != nil {
		return wrap(err, "docker runtime: stopping sandbox %q", id)
	}
	r.log.Info("sandbox stopped", "sandbox", short(id))
	return nil
}

// RemoveSandbox removes the sandbox and every container in it.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	sb, err := r.inspectSandbox(ctx, id)
	if err != nil {
		return err
	}
	all, err := r.c.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", labelSandboxID+"="+sb.ID))})
	if err != nil {
		return fmt.Errorf("docker runtime: listing containers of sandbox %q: %w", id, err)
	}
	for _, c := range all {
		if err := r.RemoveContainer(ctx, c.ID); err != nil && !isNotFound(err) {
			return err
		}
	}
	if err := r.remove(ctx, sb.ID); err != nil {
		return wrap(err, "docker runtime: removing sandbox %q", id)
	}
	r.log.Info("sandbox removed", "pod", sb.Namespace+"/"+sb.Name, "sandbox", short(sb.ID))
	return nil
}

// ListSandboxes lists sandboxes in every state.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.Filter) ([]runtime.Sandbox, error) {
	list, err := r.c.ContainerList(ctx, container.ListOptions{All: true, Filters: listFilters(runtime.RoleSandbox, f)})
	if err != nil {
		return nil, fmt.Errorf("docker runtime: listing sandboxes: %w", err)
	}
	out := make([]runtime.Sandbox, 0, len(list))
	for _, c := range list {
		out = append(out, r.sandbox(c.ID, c.Labels, c.State == container.StateRunning,
			time.Unix(c.Created, 0), c.HostConfig.NetworkMode, 0))
	}
	return out, nil
}

// inspectSandbox reads one sandbox; ids of other containers are not found.
func (r *Runtime) inspectSandbox(ctx context.Context, id string) (runtime.Sandbox, error) {
	in, err := r.c.ContainerInspect(ctx, id)
	if err != nil {
		return runtime.Sandbox{}, wrap(err, "docker runtime: inspecting sandbox %q", id)
	}
	if in.Config == nil || in.Config.Labels[runtime.LabelRole] != runtime.RoleSandbox {
		return runtime.Sandbox{}, notFound("sandbox", id)
	}
	created, _ := time.Parse(time.RFC3339Nano, in.Created)
	running, pid := in.State != nil && in.State.Running, 0
	if running {
		pid = in.State.Pid
	}
	return r.sandbox(in.ID, in.Config.Labels, running, created, string(in.HostConfig.NetworkMode), pid), nil
}

// sandbox builds the runtime's view; pid (0 when unknown, as in a list)
// gives the network namespace of a running sandbox.
func (r *Runtime) sandbox(id string, labels map[string]string, running bool, created time.Time,
	netMode string, pid int) runtime.Sandbox {
	sb := runtime.Sandbox{
		ID:        id,
		PodUID:    labels[runtime.LabelPodUID],
		Namespace: labels[runtime.LabelPodNamespace],
		Name:      labels[runtime.LabelPodName],
		Node:      labels[runtime.LabelNode],
		State:     runtime.SandboxNotReady,
		CreatedAt: created,
		Labels:    labels,
	}
	if running {
		sb.State = runtime.SandboxReady
	}
	if netMode == network.NetworkHost {
		sb.IP = r.opts.NodeIP
	} else if running && pid > 0 {
		sb.NetNS = fmt.Sprintf("/proc/%d/ns/net", pid)
	}
	return sb
}

// ensureInfraImage builds the infra image from Options.InfraBinary when it
// is missing: no registry is needed to run pods.
//
// Once the image is known to exist it is not checked again (a check per
// sandbox would serialise every pod start on this lock); a sandbox create
// that fails for a missing image clears the mark (see RunSandbox).
func (r *Runtime) ensureInfraImage(ctx context.Context) error {
	if r.infraReady.Load() {
		return nil
	}
	r.infraMu.Lock()
	defer r.infraMu.Unlock()
	if r.infraReady.Load() {
		return nil
	}
	ok, err := r.ImageExists(ctx, r.opts.InfraImage)
	if err != nil {
		return err
	}
	if !ok {
		if r.opts.InfraBinary == "" {
			return fmt.Errorf("docker runtime: the infra image %q is missing and no infra binary is configured to build it", r.opts.InfraImage)
		}
		if err := r.ImportBinary(ctx, r.opts.InfraBinary, r.opts.InfraImage, nil); err != nil {
			return err
		}
	}
	r.infraReady.Store(true)
	return nil
}
