package client

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// The one definition of a deployment rollout's state, shared by
// `maestro rollout status` and the Terraform provider: CheckRollout is
// pure (objects in, verdict out) and WaitForRollout feeds it from the API.

// Defaults of a rollout wait's fail-fast rules.
const (
	// DefaultUnschedulableTimeout is how long a new pod may stay
	// unschedulable, with no node pool adding room for it, before the wait
	// fails with the scheduler's reason.
	DefaultUnschedulableTimeout = 30 * time.Second
	// DefaultCrashLoopRestarts is how many restarts a container of a new
	// pod may make; when it crashes again after that many the wait fails
	// with its exit and last log lines.
	DefaultCrashLoopRestarts = 3
	// DefaultImagePullFailures is how many times the image of a new pod's
	// container may fail to pull (the agent retries with a back-off of
	// 10 s, then 20 s: three failures take about 30 s) before the wait
	// fails with the registry's answer.
	DefaultImagePullFailures = 3
)

// RolloutReason says why a rollout wait ended without success.
type RolloutReason string

// Why a rollout failed.
const (
	// RolloutUnschedulable: a new pod fit no node for UnschedulableTimeout
	// and no node pool was adding room for it.
	RolloutUnschedulable RolloutReason = "Unschedulable"
	// RolloutNoPoolCanHold: the cluster autoscaler found that no node
	// pool's node could ever hold a new pod.
	RolloutNoPoolCanHold RolloutReason = "NoPoolCanHold"
	// RolloutCrashLoop: a container of a new pod crashed again after
	// CrashLoopRestarts restarts.
	RolloutCrashLoop RolloutReason = "CrashLoop"
	// RolloutImagePull: a container's image failed to pull
	// ImagePullFailures times, or cannot be pulled at all (pull policy
	// Never and the image is not on the node).
	RolloutImagePull RolloutReason = "ImagePullFailed"
	// RolloutProgressDeadline: the deployment controller reported
	// ProgressDeadlineExceeded.
	RolloutProgressDeadline RolloutReason = "ProgressDeadlineExceeded"
	// RolloutTimeout: the wait's own timeout passed first.
	RolloutTimeout RolloutReason = "Timeout"
)

// RolloutError is a rollout that will not finish: why, about which pod,
// in the words of whoever knew (the scheduler, the container, the
// deployment controller), and what to do about it.
type RolloutError struct {
	// Kind is "pod" for a single pod's start (CheckPod); "" for a
	// deployment.
	Kind            string
	Namespace, Name string // the deployment (or the pod)
	Reason          RolloutReason
	// Pod and Container name the pod (and container) the verdict is about
	// ("" for a whole-deployment verdict).
	Pod, Container string
	// Message is the cause as its source reported it: the scheduler's
	// counted reasons, the container's exit, the controller's condition.
	Message string
	// Logs are the last lines a crashed container wrote (crash loops).
	Logs string
	// Pods summarises the problems the deployment's pods report (filled
	// by WaitForRollout for timeouts and progress deadlines).
	Pods string
	// Advice says what to do; it matches Reason and Message.
	Advice string
}

func (e *RolloutError) Error() string {
	var b strings.Builder
	kind := e.Kind
	if kind == "" {
		kind = "deployment"
	}
	fmt.Fprintf(&b, "%s %s/%s ", kind, e.Namespace, e.Name)
	switch {
	case e.Reason == RolloutTimeout:
		b.WriteString("did not finish its rollout: ")
	case kind == "pod":
		b.WriteString("cannot start: ")
	default:
		b.WriteString("cannot roll out: ")
	}
	if e.Pod != "" {
		fmt.Fprintf(&b, "pod %s", e.Pod)
		if e.Container != "" {
			fmt.Fprintf(&b, ", container %s", e.Container)
		}
		b.WriteString(": ")
	} else if e.Container != "" {
		fmt.Fprintf(&b, "container %s: ", e.Container)
	}
	b.WriteString(e.Message)
	if e.Logs != "" {
		b.WriteString(strings.TrimRight(logSuffix(e.Logs), "\n"))
	}
	if e.Pods != "" {
		fmt.Fprintf(&b, " (pods: %s)", e.Pods)
	}
	if e.Advice != "" {
		fmt.Fprintf(&b, "\n%s", e.Advice)
	}
	return b.String()
}

// RolloutCheck is what CheckRollout decides from.
type RolloutCheck struct {
	Deployment *api.Deployment
	// ReplicaSets and Pods are the deployment's (others are ignored).
	ReplicaSets []*api.ReplicaSet
	Pods        []*api.Pod
	// Events are the namespace's; the cluster autoscaler's verdicts on
	// pending pods are read from them. May be nil when no pod is pending.
	Events []*api.Event
	Now    time.Time
	// UnschedulableTimeout: see DefaultUnschedulableTimeout (< 0: never
	// fail for unschedulable pods, 0: fail on the first verdict).
	UnschedulableTimeout time.Duration
	// CrashLoopRestarts: see DefaultCrashLoopRestarts (< 0: never fail
	// for crash loops).
	CrashLoopRestarts int32
	// ImagePullFailures: see DefaultImagePullFailures (<= 0: never fail
	// for image pulls that are retried; a pull that cannot be retried,
	// ErrImageNeverPull, fails at once).
	ImagePullFailures int32
	// RoomFreedAt is when a wait last saw a pod of the deployment
	// terminating (zero: never): the room it held (a node under required
	// anti-affinity, a host port) went free then, so the unschedulable
	// clock starts again from it.
	RoomFreedAt time.Time
}

// RolloutVerdict is the state of a rollout.
type RolloutVerdict struct {
	// Done: every replica runs the current template and is available.
	Done bool
	// Status is one line for people ("Waiting for rollout to finish: 1
	// of 4 new replicas have been updated...").
	Status string
	// Waiting lists, once each, what pending pods wait for ("waiting for
	// node pool web to add 1 node(s) (size 2, max 4)").
	Waiting []string
	// Failed is set when waiting longer cannot help.
	Failed *RolloutError
}

// CheckRollout decides, from objects alone, whether a deployment's
// rollout is done, still worth waiting for, or failed.
func CheckRollout(in RolloutCheck) RolloutVerdict {
	d := in.Deployment
	st := d.Status
	fail := func(e RolloutError) RolloutVerdict {
		e.Namespace, e.Name = d.Namespace, d.Name
		if e.Advice == "" {
			e.Advice = RolloutAdvice(e.Reason, e.Message)
		}
		return RolloutVerdict{Status: e.Message, Failed: &e}
	}
	if st.ObservedGeneration < d.Generation {
		return RolloutVerdict{Status: "Waiting for the deployment spec update to be observed..."}
	}
	if c := api.FindCondition(st.Conditions, api.DeploymentProgressing); c != nil && c.Reason == api.ReasonProgressDeadlineExceeded {
		deadline := api.Deref(d.Spec.ProgressDeadlineSeconds, api.DefaultProgressDeadlineSeconds)
		return fail(RolloutError{Reason: RolloutProgressDeadline,
			Message: fmt.Sprintf("no progress for %ds (its progress deadline): %s", deadline, c.Message)})
	}
	want := api.Deref(d.Spec.Replicas, 1)
	v := RolloutVerdict{}
	switch {
	case st.UpdatedReplicas < want:
		v.Status = fmt.Sprintf("Waiting for rollout to finish: %d of %d new replicas have been updated...", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		v.Status = fmt.Sprintf("Waiting for rollout to finish: %d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		v.Status = fmt.Sprintf("Waiting for rollout to finish: %d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas)
	default:
		return RolloutVerdict{Done: true, Status: fmt.Sprintf("deployment %q successfully rolled out", d.Name)}
	}
	newPods, terminating := newRolloutPods(d, in.ReplicaSets, in.Pods)
	if e := crashLoop(newPods, in.CrashLoopRestarts); e != nil {
		return fail(*e)
	}
	if e := imagePull(newPods, in.Events, in.ImagePullFailures); e != nil {
		return fail(*e)
	}
	pools := summarizePools(newPods, in.Events)
	v.Waiting = pools.waiting
	if e := pools.never; e != nil {
		return fail(*e)
	}
	freed := in.RoomFreedAt
	if terminating {
		freed = in.Now
	}
	if e := unschedulable(newPods, pools, freed, in.Now, in.UnschedulableTimeout); e != nil {
		return fail(*e)
	}
	return v
}

// newRolloutPods are the live pods of the deployment's newest replica set
// (the highest revision: a rollback's template gets a new one); terminating
// says whether any pod of the deployment is on its way out, freeing room.
func newRolloutPods(d *api.Deployment, rss []*api.ReplicaSet, pods []*api.Pod) (newPods []*api.Pod, terminating bool) {
	var newRS *api.ReplicaSet
	var newest int64 = -1
	for _, rs := range rss {
		if ref := rs.ControllerRef(); ref == nil || ref.UID != d.UID || rs.DeletionTimestamp != nil {
			continue
		}
		if n, err := strconv.ParseInt(rs.Annotations[api.AnnotationRevision], 10, 64); err == nil && n > newest {
			newRS, newest = rs, n
		}
	}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			terminating = true
			continue
		}
		if ref := p.ControllerRef(); newRS != nil && ref != nil && ref.UID == newRS.UID && !api.IsPodTerminal(p) {
			newPods = append(newPods, p)
		}
	}
	slices.SortFunc(newPods, func(a, b *api.Pod) int { return strings.Compare(a.Name, b.Name) })
	return newPods, terminating
}

// crashLoop finds a container that crashed again after limit restarts.
func crashLoop(pods []*api.Pod, limit int32) *RolloutError {
	if limit < 0 {
		return nil
	}
	for _, p := range pods {
		for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
			if cs.RestartCount < limit {
				continue
			}
			w, term := cs.State.Waiting, cs.State.Terminated
			crashed := term != nil || w != nil && w.Reason == api.ReasonCrashLoopBackOff
			if term == nil {
				term = cs.LastState.Terminated
			}
			if !crashed || term == nil {
				continue
			}
			msg := fmt.Sprintf("crash loop: exited with code %d", term.ExitCode)
			if term.Signal != 0 {
				msg += fmt.Sprintf(" (signal %d)", term.Signal)
			}
			if term.Reason != "" {
				msg += fmt.Sprintf(" (%s)", term.Reason)
			}
			msg += fmt.Sprintf(" after %d restart(s)", cs.RestartCount)
			return &RolloutError{Reason: RolloutCrashLoop, Pod: p.Name, Container: cs.Name, Message: msg}
		}
	}
	return nil
}

// imagePull finds a container whose image will not come: its pull cannot
// be retried (ErrImageNeverPull), or it has failed limit times by the
// pod's failed-pull events (limit <= 0: only the first case).
func imagePull(pods []*api.Pod, events []*api.Event, limit int32) *RolloutError {
	for _, p := range pods {
		for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			image := containerImage(p, cs.Name)
			switch {
			case w.Reason == api.ReasonErrImageNeverPull:
				return &RolloutError{Reason: RolloutImagePull, Pod: p.Name, Container: cs.Name,
					Message: fmt.Sprintf("image %q cannot be pulled: %s", image, w.Message)}
			case limit > 0 && retryingPull(w):
				if n := pullFailures(p, image, events); n >= limit {
					return &RolloutError{Reason: RolloutImagePull, Pod: p.Name, Container: cs.Name,
						Message: fmt.Sprintf("image %q failed to pull %d times: %s", image, n, w.Message)}
				}
			}
		}
	}
	return nil
}

// containerImage is the image of the pod's (init) container name.
func containerImage(p *api.Pod, name string) string {
	for _, c := range slices.Concat(p.Spec.InitContainers, p.Spec.Containers) {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

// retryingPull reports whether a container waits for an image the agent
// keeps trying to pull.
func retryingPull(w *api.ContainerStateWaiting) bool {
	return w != nil && (w.Reason == api.ReasonErrImagePull || w.Reason == api.ReasonImagePullBackOff)
}

// pullFailures counts the failed pulls of image for pod p recorded in
// events (an event repeated is one with a count).
func pullFailures(p *api.Pod, image string, events []*api.Event) int32 {
	prefix := api.PullFailedPrefix(image)
	var n int32
	for _, ev := range events {
		o := ev.InvolvedObject
		if o.Kind != "Pod" || o.Name != p.Name || o.Namespace != p.Namespace || o.UID != "" && o.UID != p.UID ||
			ev.Reason != api.EventReasonFailedPull || !strings.HasPrefix(ev.Message, prefix) {
			continue
		}
		n += max(ev.Count, 1)
	}
	return n
}

// pullingImages reports whether a container of a pod waits for its image
// (the rollout wait then reads the events that count failed pulls).
func pullingImages(pods []*api.Pod) bool {
	return slices.ContainsFunc(pods, func(p *api.Pod) bool {
		return slices.ContainsFunc(slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses), func(cs api.ContainerStatus) bool {
			return retryingPull(cs.State.Waiting)
		})
	})
}

// unschedulable finds a pod the scheduler placed nowhere for longer than
// timeout with no node pool adding room for it. The clock starts at the
// latest of: the pod becoming unschedulable, a pool last saying it adds
// room, a pod of the deployment last seen terminating (freed: its room, a
// host port or an anti-affinity domain, is being given back).
func unschedulable(pods []*api.Pod, pools poolVerdicts, freed, now time.Time, timeout time.Duration) *RolloutError {
	if timeout < 0 {
		return nil
	}
	for _, p := range pods {
		if !PodPending(p) || pools.adding[p.Name] {
			continue
		}
		c := api.FindCondition(p.Status.Conditions, api.PodScheduled)
		since := c.LastTransitionTime
		if t := pools.lastAdding[p.Name]; t.After(since) {
			since = t
		}
		if freed.After(since) {
			since = freed
		}
		if since.After(now) { // clock skew: count from now
			since = now
		}
		if waited := now.Sub(since); waited >= timeout {
			return &RolloutError{Reason: RolloutUnschedulable, Pod: p.Name,
				Message: fmt.Sprintf("unschedulable for %s with no node pool adding room: %s",
					waited.Round(time.Second), c.Message)}
		}
	}
	return nil
}

// PodPending reports whether the scheduler found no node for p.
func PodPending(p *api.Pod) bool {
	if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
		return false
	}
	c := api.FindCondition(p.Status.Conditions, api.PodScheduled)
	return c != nil && c.Status == api.ConditionFalse && c.Reason == api.ReasonUnschedulable
}

// poolVerdicts is what the cluster autoscaler last said of each pending
// pod (by name).
type poolVerdicts struct {
	// adding: a pool is adding nodes for the pod (its latest verdict).
	adding map[string]bool
	// lastAdding: when a pool last said it adds nodes for the pod.
	lastAdding map[string]time.Time
	waiting    []string
	// never: the first pod no pool's node could ever hold.
	never *RolloutError
}

// PoolVerdicts is what the cluster autoscaler last said of the pending
// pods among pods: what they wait for ("waiting for node pool web to add
// 1 node(s) ..."), and the first pod no pool could ever hold (nil: none).
func PoolVerdicts(pods []*api.Pod, events []*api.Event) (waiting []string, never *RolloutError) {
	v := summarizePools(pods, events)
	return v.waiting, v.never
}

// summarizePools reads, for each pending pod, the cluster autoscaler's
// events about it: the latest says whether a pool is adding nodes
// (TriggeredScaleUp), no pool can now (NotTriggerScaleUp) or none ever
// could (NotTriggerScaleUp with api.MessageNoPoolCanHold).
func summarizePools(pods []*api.Pod, events []*api.Event) poolVerdicts {
	out := poolVerdicts{adding: map[string]bool{}, lastAdding: map[string]time.Time{}}
	pending := map[string]*api.Pod{}
	for _, p := range pods {
		if PodPending(p) {
			pending[p.Name] = p
		}
	}
	latest := map[string]*api.Event{}
	for _, ev := range events {
		o := ev.InvolvedObject
		p, ok := pending[o.Name]
		if o.Kind != "Pod" || !ok || o.Namespace != p.Namespace || o.UID != "" && o.UID != p.UID ||
			ev.Reason != api.ReasonTriggeredScaleUp && ev.Reason != api.ReasonNotTriggerScaleUp {
			continue
		}
		if ev.Reason == api.ReasonTriggeredScaleUp && eventTime(ev).After(out.lastAdding[o.Name]) {
			out.lastAdding[o.Name] = eventTime(ev)
		}
		if cur := latest[o.Name]; cur == nil || !eventTime(ev).Before(eventTime(cur)) {
			latest[o.Name] = ev
		}
	}
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		ev := latest[name]
		switch {
		case ev.Reason == api.ReasonNotTriggerScaleUp && strings.HasPrefix(ev.Message, api.MessageNoPoolCanHold):
			if out.never == nil {
				sched := ""
				if c := api.FindCondition(pending[name].Status.Conditions, api.PodScheduled); c.Message != "" {
					sched = c.Message + "; "
				}
				out.never = &RolloutError{Reason: RolloutNoPoolCanHold, Pod: name, Message: sched + ev.Message}
			}
		case ev.Reason == api.ReasonTriggeredScaleUp:
			out.adding[name] = true
			if !slices.Contains(out.waiting, ev.Message) {
				out.waiting = append(out.waiting, ev.Message)
			}
		}
	}
	return out
}

func eventTime(ev *api.Event) time.Time {
	for _, t := range []time.Time{ev.LastTimestamp, ev.FirstTimestamp, ev.CreationTimestamp} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
