package agent

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/agent/prober"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// writeStatus reports the pod's status when it differs from what the API
// holds (no write when nothing changed).
func (a *Agent) writeStatus(ctx context.Context, pod *api.Pod, sb *runtime.Sandbox, containers []runtime.Container) error {
	st := a.computeStatus(pod, sb, containers, time.Now().UTC().Truncate(time.Second))
	if reflect.DeepEqual(st, pod.Status) {
		return nil
	}
	up := *pod
	up.Status = st
	if _, err := a.cfg.Client.Pods(pod.Namespace).UpdateStatus(ctx, &up); err != nil {
		return fmt.Errorf("updating status of pod %s: %w", pod.Key(), err)
	}
	return nil
}

// computeStatus derives a pod's status from the runtime and the probes.
func (a *Agent) computeStatus(pod *api.Pod, sb *runtime.Sandbox, containers []runtime.Container, now time.Time) api.PodStatus {
	st := api.PodStatus{
		ObservedGeneration: pod.Generation,
		HostIP:             a.cfg.Address,
		PodIP:              pod.Status.PodIP,
		StartTime:          pod.Status.StartTime,
		Conditions:         slices.Clone(pod.Status.Conditions),
	}
	switch {
	case pod.Spec.HostNetwork:
		st.PodIP = a.cfg.Address
	case sb != nil && sb.IP != "":
		st.PodIP = sb.IP
		// An adopted sandbox lists no address while the node's pod network
		// is not set up again (a failed Setup after a restart): it still
		// has the one it had, so the pod stays in its endpoints.
	}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	initStep := nextInitStep(&pod.Spec, sandboxIDOf(sb), containers)
	st.InitContainerStatuses = a.initStatuses(pod, containers)
	allReady := true
	for _, c := range pod.Spec.Containers {
		cs := a.containerStatus(pod, &c, containers)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		allReady = allReady && cs.Ready
	}
	st.Phase = phaseOf(pod.Spec.RestartPolicy, initStep, st.ContainerStatuses)
	ready := api.ConditionFalse
	if allReady && pod.DeletionTimestamp == nil {
		ready = api.ConditionTrue
	}
	for _, c := range []api.Condition{
		initializedCondition(initStep, st.InitContainerStatuses),
		{Type: api.ContainersReady, Status: boolCondition(allReady)},
		{Type: api.PodReady, Status: ready},
	} {
		api.SetCondition(&st.Conditions, c, now)
	}
	return st
}

func (a *Agent) containerStatus(pod *api.Pod, c *api.Container, containers []runtime.Container) api.ContainerStatus {
	key := pod.UID + "/" + c.Name
	cs := api.ContainerStatus{Name: c.Name, Image: c.Image}
	cur := latest(containers, c.Name)
	w, waiting := a.waitingFor(key)
	if prev := previous(containers, c.Name, cur); prev != nil {
		cs.LastState = api.ContainerState{Terminated: terminated(prev)}
	}
	if cur == nil {
		if !waiting {
			w = api.ContainerStateWaiting{Reason: defaultWaiting(pod)}
		}
		cs.State = api.ContainerState{Waiting: &w}
		return cs
	}
	cs.ContainerID = a.rt.Name() + "://" + cur.ID
	cs.ImageID = cur.ImageID
	cs.RestartCount = int32(cur.Attempt)
	switch cur.State {
	case runtime.ContainerRunning:
		cs.State = api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: cur.StartedAt.UTC().Truncate(time.Second)}}
		started := c.StartupProbe == nil || a.prober.Result(pod.UID, c.Name, prober.Startup) == prober.Success
		cs.Started = api.Ptr(started)
		cs.Ready = started && (c.ReadinessProbe == nil || a.readiness(pod, c, cur) == prober.Success)
	case runtime.ContainerExited:
		if waiting {
			cs.State = api.ContainerState{Waiting: &w}
			cs.LastState = api.ContainerState{Terminated: terminated(cur)}
		} else {
			cs.State = api.ContainerState{Terminated: terminated(cur)}
		}
		cs.Started = api.Ptr(false)
	default:
		if !waiting {
			w = api.ContainerStateWaiting{Reason: defaultWaiting(pod)}
		}
		cs.State = api.ContainerState{Waiting: &w}
	}
	return cs
}

// defaultWaiting is why a container the runtime does not run yet waits,
// when nothing more precise is known: Kubernetes says PodInitializing for
// every container of a pod with init containers.
func defaultWaiting(pod *api.Pod) string {
	if len(pod.Spec.InitContainers) > 0 {
		return reasonPodInitializing
	}
	return reasonContainerCreating
}

// readiness is the readiness probe's result; a container this agent
// adopted after a restart keeps the readiness the API last recorded until
// its first probe after the restart, so restarting an agent does not take
// healthy pods out of their services.
func (a *Agent) readiness(pod *api.Pod, c *api.Container, cur *runtime.Container) prober.Result {
	r := a.prober.Result(pod.UID, c.Name, prober.Readiness)
	if r == prober.Success || !cur.StartedAt.Before(a.started) || time.Since(a.started) > time.Duration(probePeriod(c.ReadinessProbe))*time.Second+time.Second {
		return r
	}
	for _, old := range pod.Status.ContainerStatuses {
		if old.Name == c.Name && old.Ready && old.ContainerID == a.rt.Name()+"://"+cur.ID {
			return prober.Success
		}
	}
	return r
}

func probePeriod(p *api.Probe) int32 {
	if p == nil {
		return 0
	}
	return p.InitialDelaySeconds + p.PeriodSeconds*max(p.SuccessThreshold, 1)
}

func terminated(c *runtime.Container) *api.ContainerStateTerminated {
	return &api.ContainerStateTerminated{
		ExitCode: int32(c.ExitCode), Reason: c.Reason, Message: c.Message,
		StartedAt: c.StartedAt.UTC().Truncate(time.Second), FinishedAt: c.FinishedAt.UTC().Truncate(time.Second),
	}
}

// previous returns the attempt before cur, for lastState.
func previous(cs []runtime.Container, name string, cur *runtime.Container) *runtime.Container {
	if cur == nil {
		return nil
	}
	var out *runtime.Container
	for i := range cs {
		if cs[i].Name == name && cs[i].Attempt < cur.Attempt && cs[i].State == runtime.ContainerExited && (out == nil || cs[i].Attempt > out.Attempt) {
			out = &cs[i]
		}
	}
	return out
}

func sandboxIDOf(sb *runtime.Sandbox) string {
	if sb == nil {
		return ""
	}
	return sb.ID
}

// phaseOf is the pod's phase: Pending until its init containers are done
// (Failed if one failed under restartPolicy Never), then podPhase of its
// app containers.
func phaseOf(policy api.RestartPolicy, step initStep, statuses []api.ContainerStatus) api.PodPhase {
	switch {
	case step.Failed != nil:
		return api.PodFailed
	case !step.Done:
		return api.PodPending
	}
	running, exited, failed := 0, 0, 0
	for _, cs := range statuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			exited++
			if cs.State.Terminated.ExitCode != 0 {
				failed++
			}
		}
	}
	return podPhase(policy, len(statuses), running, exited, failed, hasStarted(statuses))
}

// podPhase follows Kubernetes: Running while any container runs or will be
// restarted, Succeeded/Failed once all are done for good, else Pending.
func podPhase(policy api.RestartPolicy, total, running, exited, failed int, started bool) api.PodPhase {
	switch {
	case running > 0:
		return api.PodRunning
	case exited == total && total > 0 && policy == api.RestartNever:
		if failed > 0 {
			return api.PodFailed
		}
		return api.PodSucceeded
	case exited == total && total > 0 && policy == api.RestartOnFailure && failed == 0:
		return api.PodSucceeded
	case started:
		return api.PodRunning // restarting
	}
	return api.PodPending
}

func hasStarted(cs []api.ContainerStatus) bool {
	for _, c := range cs {
		if c.RestartCount > 0 || c.State.Terminated != nil || c.LastState.Terminated != nil {
			return true
		}
	}
	return false
}

func boolCondition(b bool) api.ConditionStatus {
	if b {
		return api.ConditionTrue
	}
	return api.ConditionFalse
}
