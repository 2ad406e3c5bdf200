package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

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
		netID, err := r.ensureNetwork(ctx)
		if err != nil {
			return runtime.Sandbox{}, err
		}
		hc.NetworkMode = container.NetworkMode(netID)
		conf.Hostname = cfg.Hostname
		if conf.ExposedPorts, hc.PortBindings, err = portBindings(cfg.Ports); err != nil {
			return runtime.Sandbox{}, fmt.Errorf("docker runtime: sandbox of pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
		}
	}

	id, err := r.create(ctx, conf, hc, objectName("POD", cfg.Name, cfg.Namespace, cfg.PodUID))
	if err != nil {
		// The cached image and network may be gone (pruned, removed):
		// look again next time.
		r.infraReady.Store(false)
		r.netID.Store("")
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
		var nets map[string]*network.EndpointSettings
		if c.NetworkSettings != nil {
			nets = c.NetworkSettings.Networks
		}
		out = append(out, r.sandbox(c.ID, c.Labels, c.State == container.StateRunning,
			time.Unix(c.Created, 0), c.HostConfig.NetworkMode, nets))
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
	var nets map[string]*network.EndpointSettings
	if in.NetworkSettings != nil {
		nets = in.NetworkSettings.Networks
	}
	return r.sandbox(in.ID, in.Config.Labels, in.State != nil && in.State.Running,
		created, string(in.HostConfig.NetworkMode), nets), nil
}

func (r *Runtime) sandbox(id string, labels map[string]string, running bool, created time.Time,
	netMode string, nets map[string]*network.EndpointSettings) runtime.Sandbox {
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
	switch {
	case netMode == network.NetworkHost:
		sb.IP = r.opts.NodeIP
	case nets[r.opts.Network] != nil:
		sb.IP = nets[r.opts.Network].IPAddress
	default: // made with another Options.Network
		for _, ep := range nets {
			if ep != nil && ep.IPAddress != "" {
				sb.IP = ep.IPAddress
			}
		}
	}
	return sb
}

// networkMu serialises creating the pod network among the Runtimes of a
// process: the engine's duplicate-name check is not atomic (20.10 lets
// concurrent creates of one name all succeed).
var networkMu sync.Mutex

// ensureNetwork returns the id of the pods' bridge network, created if
// missing. Agents of other local nodes may race to create it: see
// podNetwork for how they agree on one.
func (r *Runtime) ensureNetwork(ctx context.Context) (string, error) {
	if id, _ := r.netID.Load().(string); id != "" {
		return id, nil
	}
	networkMu.Lock()
	defer networkMu.Unlock()
	if id, err := r.podNetwork(ctx); err != nil || id != "" {
		if id != "" {
			r.netID.Store(id)
		}
		return id, err
	}
	_, err := r.c.NetworkCreate(ctx, r.opts.Network, network.CreateOptions{
		Driver: "bridge",
		Labels: map[string]string{runtime.LabelManaged: "true"},
	})
	if err != nil && !cerrdefs.IsConflict(err) {
		return "", fmt.Errorf("docker runtime: creating network %q: %w", r.opts.Network, err)
	}
	if err == nil {
		r.log.Info("created pod network", "network", r.opts.Network)
	}
	id, err := r.podNetwork(ctx)
	if err == nil && id == "" {
		err = fmt.Errorf("docker runtime: network %q vanished after its creation", r.opts.Network)
	}
	return id, err
}

// podNetwork finds the pod network by name ("" if missing). When racing
// agents made several, every agent picks the oldest and removes the others
// while no container uses them (the engine refuses otherwise; a later call
// retries), so all sandboxes converge on one network. Sandboxes join it by
// id: a name shared by two networks is ambiguous to the engine.
func (r *Runtime) podNetwork(ctx context.Context) (string, error) {
	list, err := r.c.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", r.opts.Network))})
	if err != nil {
		return "", fmt.Errorf("docker runtime: listing networks: %w", err)
	}
	// The name filter matches substrings.
	list = slices.DeleteFunc(list, func(n network.Summary) bool { return n.Name != r.opts.Network })
	if len(list) == 0 {
		return "", nil
	}
	slices.SortFunc(list, func(a, b network.Summary) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, dup := range list[1:] {
		if err := r.c.NetworkRemove(ctx, dup.ID); err == nil {
			r.log.Warn("removed a duplicate pod network", "network", r.opts.Network, "id", short(dup.ID))
		}
	}
	return list[0].ID, nil
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

// portBindings publishes the pod's ports (a mapping without a host port is
// only exposed).
func portBindings(ports []runtime.PortMapping) (nat.PortSet, nat.PortMap, error) {
	if len(ports) == 0 {
		return nil, nil, nil
	}
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	for _, p := range ports {
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		port, err := nat.NewPort(proto, strconv.Itoa(int(p.ContainerPort)))
		if err != nil {
			return nil, nil, fmt.Errorf("port %d/%s: %w", p.ContainerPort, proto, err)
		}
		exposed[port] = struct{}{}
		if p.HostPort != 0 {
			bindings[port] = append(bindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(int(p.HostPort))})
		}
	}
	return exposed, bindings, nil
}
