package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Init containers run one at a time, in order, each to successful
// completion, before any app container starts (Kubernetes' semantics, as
// kubelet's computeInitContainerActions decides them). What has run is read
// from the runtime's records of the current sandbox, never remembered by
// the agent, so a restarted agent adopts an initialized pod without running
// its init containers again; a new sandbox (a new network namespace) runs
// them again, as kubelet does.

// Reasons of init progress, as Kubernetes words them.
const (
	// reasonPodInitializing is the waiting reason of containers of a pod
	// with init containers before they were created.
	reasonPodInitializing = "PodInitializing"
	// reasonNotInitialized is the Initialized condition's reason while an
	// init container has not completed.
	reasonNotInitialized = "ContainersNotInitialized"
)

// initStep is what a pod's init containers need next.
type initStep struct {
	// Done: every init container completed, or an app container exists in
	// the sandbox (the pod was initialized before, whatever records of its
	// init containers remain).
	Done bool
	// Next is the init container to start, or to wait for while it runs.
	Next *api.Container
	// Current is Next's latest run in the sandbox: nil (never ran), running
	// (wait for it) or exited with an error (restart it after back-off).
	Current *runtime.Container
	// Failed is an init container that failed when the restart policy
	// (Never) allows no other try: the pod has failed.
	Failed *api.Container
}

// nextInitStep decides from the runtime's records of the pod's containers
// in sandbox sandboxID ("": any sandbox) what its init containers need.
func nextInitStep(spec *api.PodSpec, sandboxID string, containers []runtime.Container) initStep {
	inits := spec.InitContainers
	if len(inits) == 0 {
		return initStep{Done: true}
	}
	run := func(name string) *runtime.Container {
		var out *runtime.Container
		for i := range containers {
			c := &containers[i]
			if c.Name == name && (sandboxID == "" || c.SandboxID == sandboxID) && (out == nil || c.Attempt > out.Attempt) {
				out = c
			}
		}
		return out
	}
	for i := range spec.Containers {
		if run(spec.Containers[i].Name) != nil {
			return initStep{Done: true}
		}
	}
	// The last init container that has run tells where initialization
	// stands: those before it completed (they run in order).
	for i := len(inits) - 1; i >= 0; i-- {
		cur := run(inits[i].Name)
		switch {
		case cur == nil:
			continue
		case cur.State == runtime.ContainerExited && cur.ExitCode == 0:
			if i == len(inits)-1 {
				return initStep{Done: true}
			}
			return initStep{Next: &inits[i+1]}
		case cur.State == runtime.ContainerExited && spec.RestartPolicy == api.RestartNever:
			return initStep{Failed: &inits[i], Current: cur}
		default: // running, failed (restarted after back-off), or never started
			return initStep{Next: &inits[i], Current: cur}
		}
	}
	return initStep{Next: &inits[0]}
}

// syncInit advances the pod's init containers by one step and reports
// whether they are all done, and when to look at the pod again (a back-off
// ending). A running init container's exit wakes the pod through the
// runtime poll.
func (a *Agent) syncInit(ctx context.Context, pod *api.Pod, sb runtime.Sandbox, mounts map[string][]runtime.Mount, containers []runtime.Container) (bool, time.Time) {
	step := nextInitStep(&pod.Spec, sb.ID, containers)
	if step.Done || step.Next == nil {
		return step.Done, time.Time{} // done, or failed for good (the status fails the pod)
	}
	c, cur := step.Next, step.Current
	key := pod.UID + "/" + c.Name
	if cur != nil && cur.State == runtime.ContainerRunning {
		a.clearWaiting(key)
		return false, time.Time{}
	}
	if cur != nil && cur.State == runtime.ContainerExited {
		if until := a.crashBackoff(pod, c.Name, cur, time.Now()); !until.IsZero() {
			return false, until
		}
	}
	// Attempts count across sandboxes, so a new sandbox's run has a new name.
	at, err := a.startContainer(ctx, pod, sb, c, mounts[c.Name], latest(containers, c.Name), containerHash(&pod.Spec, c))
	if err != nil {
		a.log.Warn("init container sync failed", "pod", pod.Key(), "container", c.Name, "err", err)
	}
	return false, at
}

// initStatuses are the statuses of the pod's init containers: ready once
// completed successfully, as in Kubernetes.
func (a *Agent) initStatuses(pod *api.Pod, containers []runtime.Container) []api.ContainerStatus {
	var out []api.ContainerStatus
	for i := range pod.Spec.InitContainers {
		cs := a.containerStatus(pod, &pod.Spec.InitContainers[i], containers)
		cs.Ready = cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		out = append(out, cs)
	}
	return out
}

// initializedCondition is the pod's Initialized condition: false, naming
// the init containers that have not completed, until they all have.
func initializedCondition(step initStep, inits []api.ContainerStatus) api.Condition {
	if step.Done {
		return api.Condition{Type: api.PodInitialized, Status: api.ConditionTrue}
	}
	var incomplete []string
	for _, cs := range inits {
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			incomplete = append(incomplete, cs.Name)
		}
	}
	return api.Condition{Type: api.PodInitialized, Status: api.ConditionFalse, Reason: reasonNotInitialized,
		Message: fmt.Sprintf("containers with incomplete status: %v", incomplete)}
}
