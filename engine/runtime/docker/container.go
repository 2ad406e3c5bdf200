package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// CreateContainer creates an app container joined to the sandbox's
// network and IPC namespaces. Kubernetes semantics: Command replaces the
// image's entrypoint (and drops its Cmd), Args replace its Cmd.
func (r *Runtime) CreateContainer(ctx context.Context, sb runtime.Sandbox, cfg runtime.ContainerConfig) (string, error) {
	log := r.log.With("pod", sb.Namespace+"/"+sb.Name, "container", cfg.Name)
	if cfg.Image == "" {
		return "", fmt.Errorf("docker runtime: container %q: image is required", cfg.Name)
	}
	labels := runtime.ContainerLabels(sb, cfg)
	labels[labelSandboxID] = sb.ID
	conf := &container.Config{
		Image:      cfg.Image,
		Env:        cfg.Env,
		WorkingDir: cfg.WorkingDir,
		Labels:     labels,
	}
	// nil, not empty: an empty list would erase the image's values.
	if len(cfg.Command) > 0 {
		conf.Entrypoint = cfg.Command
	}
	if len(cfg.Args) > 0 {
		conf.Cmd = cfg.Args
	}
	mounts, err := r.mounts(ctx, cfg)
	if err != nil {
		return "", err
	}
	hc := &container.HostConfig{
		NetworkMode: container.NetworkMode("container:" + sb.ID),
		IpcMode:     container.IpcMode("container:" + sb.ID),
		Mounts:      mounts,
		Resources:   resources(cfg.Resources),
	}
	if err := r.applySecurity(ctx, cfg.Image, cfg.Security, conf, hc); err != nil {
		return "", fmt.Errorf("docker runtime: creating container %q of pod %s/%s: %w", cfg.Name, sb.Namespace, sb.Name, err)
	}
	name := objectName(cfg.Name, sb.Name, sb.Namespace, sb.PodUID, strconv.Itoa(cfg.Attempt))
	id, err := r.create(ctx, conf, hc, name)
	if err != nil {
		if cerrdefs.IsNotFound(err) { // the image: not a runtime.ErrNotFound
			return "", fmt.Errorf("docker runtime: creating container %q: image %q is not present (EnsureImage first): %v", cfg.Name, cfg.Image, err)
		}
		return "", fmt.Errorf("docker runtime: creating container %q of pod %s/%s: %w", cfg.Name, sb.Namespace, sb.Name, err)
	}
	log.Debug("container created", "id", short(id), "attempt", cfg.Attempt)
	return id, nil
}

// resources maps requests and limits as the kubelet does: the cpu request
// is a relative weight (shares, at least 2), the limit a CFS quota, and the
// memory limit covers swap too.
func resources(res runtime.Resources) container.Resources {
	out := container.Resources{CPUShares: max(res.CPURequestMilli*1024/1000, 2)}
	if res.CPULimitMilli > 0 {
		out.NanoCPUs = res.CPULimitMilli * 1_000_000
	}
	if res.MemoryLimit > 0 {
		out.Memory = res.MemoryLimit
		out.MemorySwap = res.MemoryLimit
	}
	return out
}

// mounts turns the container's mounts into engine mounts, creating named
// volumes (labelled as ours) so they outlive the container.
func (r *Runtime) mounts(ctx context.Context, cfg runtime.ContainerConfig) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, m := range cfg.Mounts {
		if !strings.HasPrefix(m.ContainerPath, "/") {
			return nil, fmt.Errorf("docker runtime: container %q: mount path %q must be absolute", cfg.Name, m.ContainerPath)
		}
		switch {
		case m.HostPath != "" && m.VolumeName != "":
			return nil, fmt.Errorf("docker runtime: container %q: mount at %q has both a host path and a volume name", cfg.Name, m.ContainerPath)
		case m.HostPath != "":
			out = append(out, mount.Mount{Type: mount.TypeBind, Source: m.HostPath, Target: m.ContainerPath, ReadOnly: m.ReadOnly})
		case m.VolumeName != "":
			labels := map[string]string{runtime.LabelManaged: "true"}
			for k, v := range cfg.Labels {
				labels[k] = v
			}
			// Idempotent: an existing volume is returned as it is.
			if _, err := r.c.VolumeCreate(ctx, volume.CreateOptions{Name: m.VolumeName, Labels: labels}); err != nil {
				return nil, fmt.Errorf("docker runtime: creating volume %q: %w", m.VolumeName, err)
			}
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: m.VolumeName, Target: m.ContainerPath, ReadOnly: m.ReadOnly})
		default:
			return nil, fmt.Errorf("docker runtime: container %q: mount at %q has neither a host path nor a volume name", cfg.Name, m.ContainerPath)
		}
	}
	return out, nil
}

// RemoveVolume deletes a named volume and its data; one that does not
// exist is no error, one a container still uses is.
func (r *Runtime) RemoveVolume(ctx context.Context, name string) error {
	err := r.c.VolumeRemove(ctx, name, false)
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker runtime: removing volume %q: %w", name, err)
	}
	r.log.Debug("volume removed", "volume", name)
	return nil
}

// StartContainer starts a created container.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	if err := r.c.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return wrap(err, "docker runtime: starting container %q", id)
	}
	r.log.Debug("container started", "id", short(id))
	return nil
}

// StopContainer sends SIGTERM (or the image's stop signal), waits up to
// timeout (rounded up to whole seconds), then SIGKILL.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	if err := r.stop(ctx, id, timeout); err != nil {
		return wrap(err, "docker runtime: stopping container %q", id)
	}
	r.log.Debug("container stopped", "id", short(id))
	return nil
}

func (r *Runtime) stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(math.Ceil(max(timeout, 0).Seconds()))
	return r.c.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
}

// RemoveContainer removes a container whatever its state, with its
// anonymous volumes; named volumes stay.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if err := r.remove(ctx, id); err != nil {
		return wrap(err, "docker runtime: removing container %q", id)
	}
	r.forget(id)
	r.log.Debug("container removed", "id", short(id))
	return nil
}

func (r *Runtime) remove(ctx context.Context, id string) error {
	err := r.c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress") {
		return nil
	}
	return err
}

// removeQuietly cleans up after a failed start; the caller reports the
// start's error, not this one's.
func (r *Runtime) removeQuietly(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.remove(ctx, id); err != nil {
		r.log.Warn("removing a container that failed to start", "id", short(id), "error", err)
	}
}

// create creates a container named name, or name with a random suffix
// when a leftover (a retry after a crash) holds the name: labels, not
// names, identify objects.
func (r *Runtime) create(ctx context.Context, conf *container.Config, hc *container.HostConfig, name string) (string, error) {
	resp, err := r.c.ContainerCreate(ctx, conf, hc, nil, nil, name)
	if cerrdefs.IsConflict(err) {
		resp, err = r.c.ContainerCreate(ctx, conf, hc, nil, nil, name+"_"+randomHex(4))
	}
	if err != nil {
		return "", err
	}
	for _, w := range resp.Warnings {
		r.log.Warn("engine warning", "id", short(resp.ID), "warning", w)
	}
	return resp.ID, nil
}

// listFilters selects objects of one role passing f.
func listFilters(role string, f runtime.Filter) filters.Args {
	args := filters.NewArgs(
		filters.Arg("label", runtime.LabelManaged+"=true"),
		filters.Arg("label", runtime.LabelRole+"="+role),
	)
	for k, v := range f.Selector() {
		args.Add("label", k+"="+v)
	}
	return args
}

// objectName is a readable container name (maestro_<parts>), with the
// characters the engine refuses replaced.
func objectName(parts ...string) string {
	var b strings.Builder
	b.WriteString("maestro")
	for _, p := range parts {
		b.WriteByte('_')
		for _, c := range p {
			if c < 128 && (c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				b.WriteRune(c)
			} else {
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// short is the 12-character id the docker CLI shows.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
