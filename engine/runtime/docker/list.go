package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// details is what a list does not tell about a container, valid while the
// container stays in state.
type details struct {
	state                 container.ContainerState
	image                 string
	startedAt, finishedAt time.Time
	exitCode              int
	reason, message       string
}

// maxDetails bounds the cache; containers removed behind our back would
// otherwise stay in it forever.
const maxDetails = 4096

// ListContainers reports app containers in every state. Containers whose
// state changed since the last call are inspected for their times and
// exit details; the others come from the cache.
func (r *Runtime) ListContainers(ctx context.Context, f runtime.Filter) ([]runtime.Container, error) {
	list, err := r.c.ContainerList(ctx, container.ListOptions{All: true, Filters: listFilters(runtime.RoleContainer, f)})
	if err != nil {
		return nil, fmt.Errorf("docker runtime: listing containers: %w", err)
	}
	out := make([]runtime.Container, 0, len(list))
	for _, s := range list {
		d, ok := r.cached(s.ID, s.State)
		if !ok {
			in, err := r.c.ContainerInspect(ctx, s.ID)
			if isNotFound(err) { // removed since the list
				continue
			}
			if err != nil {
				return nil, wrap(err, "docker runtime: inspecting container %q", s.ID)
			}
			d = r.remember(in)
		}
		out = append(out, containerFrom(s.ID, s.Labels, s.ImageID, time.Unix(s.Created, 0), d))
	}
	return out, nil
}

// InspectContainer reports one app container.
func (r *Runtime) InspectContainer(ctx context.Context, id string) (runtime.Container, error) {
	in, err := r.c.ContainerInspect(ctx, id)
	if err != nil {
		return runtime.Container{}, wrap(err, "docker runtime: inspecting container %q", id)
	}
	if in.Config == nil || in.Config.Labels[runtime.LabelRole] != runtime.RoleContainer {
		return runtime.Container{}, notFound("container", id)
	}
	created, _ := time.Parse(time.RFC3339Nano, in.Created)
	return containerFrom(in.ID, in.Config.Labels, in.Image, created, r.remember(in)), nil
}

func containerFrom(id string, labels map[string]string, imageID string, created time.Time, d details) runtime.Container {
	c := runtime.Container{
		ID:         id,
		SandboxID:  labels[labelSandboxID],
		PodUID:     labels[runtime.LabelPodUID],
		Name:       labels[runtime.LabelContainerName],
		Attempt:    runtime.AttemptOf(labels),
		Hash:       labels[runtime.LabelHash],
		Image:      d.image,
		ImageID:    imageID,
		State:      stateOf(d.state),
		CreatedAt:  created,
		StartedAt:  d.startedAt,
		FinishedAt: d.finishedAt,
		Labels:     labels,
	}
	if c.State == runtime.ContainerExited {
		c.ExitCode, c.Reason, c.Message = d.exitCode, d.reason, d.message
	}
	return c
}

func stateOf(s container.ContainerState) runtime.ContainerState {
	switch s {
	case container.StateCreated:
		return runtime.ContainerCreated
	case container.StateRunning, container.StatePaused, container.StateRestarting:
		return runtime.ContainerRunning
	case container.StateExited, container.StateDead, container.StateRemoving:
		return runtime.ContainerExited
	default:
		return runtime.ContainerUnknown
	}
}

func (r *Runtime) cached(id string, state container.ContainerState) (details, bool) {
	r.detailsMu.Lock()
	defer r.detailsMu.Unlock()
	d, ok := r.details[id]
	return d, ok && d.state == state
}

// remember extracts and caches an inspect's details.
func (r *Runtime) remember(in container.InspectResponse) details {
	var d details
	if in.Config != nil {
		d.image = in.Config.Image
	}
	if st := in.State; st != nil {
		d.state = st.Status
		d.startedAt = parseTime(st.StartedAt)
		d.finishedAt = parseTime(st.FinishedAt)
		d.exitCode = st.ExitCode
		d.reason = runtime.ExitReason(st.ExitCode, st.OOMKilled)
		d.message = st.Error
		// The engine stamps StartedAt after the process runs; one that
		// exits at once can finish "before" it started.
		if !d.finishedAt.IsZero() && d.finishedAt.Before(d.startedAt) {
			d.startedAt = d.finishedAt
		}
	}
	r.detailsMu.Lock()
	defer r.detailsMu.Unlock()
	if len(r.details) >= maxDetails {
		clear(r.details)
	}
	r.details[in.ID] = d
	return d
}

func (r *Runtime) forget(id string) {
	r.detailsMu.Lock()
	defer r.detailsMu.Unlock()
	delete(r.details, id)
}

// parseTime reads the engine's times; its zero ("0001-01-01T00:00:00Z")
// becomes time.Time's.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
