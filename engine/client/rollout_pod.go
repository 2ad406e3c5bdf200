package client

import (
	"context"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// A single pod's start judged by the rollout wait's fail-fast rules
// (CheckRollout's, applied to one pod): the Terraform provider's
// maestro_pod waits with them, so a pod no node can take, or whose
// container crash loops, fails its apply at once as a deployment does.

// PodCheck is what CheckPod decides from.
type PodCheck struct {
	Pod *api.Pod
	// Events are the namespace's (the cluster autoscaler's verdicts on
	// the pod); may be nil when the pod is not pending.
	Events []*api.Event
	Now    time.Time
	// UnschedulableTimeout, CrashLoopRestarts and ImagePullFailures are
	// RolloutCheck's.
	UnschedulableTimeout time.Duration
	CrashLoopRestarts    int32
	ImagePullFailures    int32
}

// CheckPod reports why waiting longer for the pod to start cannot help,
// or nil while it can: a container crashed again after CrashLoopRestarts
// restarts, no node pool could ever hold the pod, or it has been
// unschedulable for UnschedulableTimeout with no pool adding room, or a
// container's image failed to pull ImagePullFailures times. Whether
// the pod is ready, or has failed for good (phase Failed), is the
// caller's to see.
func CheckPod(in PodCheck) *RolloutError {
	p := in.Pod
	pods := []*api.Pod{p}
	e := crashLoop(pods, in.CrashLoopRestarts)
	if e == nil {
		e = imagePull(pods, in.Events, in.ImagePullFailures)
	}
	if e == nil {
		pools := summarizePools(pods, in.Events)
		if e = pools.never; e == nil {
			e = unschedulable(pods, pools, time.Time{}, in.Now, in.UnschedulableTimeout)
		}
	}
	if e == nil {
		return nil
	}
	out := *e
	out.Kind, out.Namespace, out.Name, out.Pod = "pod", p.Namespace, p.Name, ""
	out.Advice = RolloutAdvice(out.Reason, out.Message)
	return &out
}

// CheckPodStart reads what CheckPod needs beyond the pod (the namespace's
// events while it is pending) and, for a crash loop, adds the container's
// last log lines. The error is from reading the API.
func (c *Client) CheckPodStart(ctx context.Context, p *api.Pod, opt RolloutOptions) (*RolloutError, error) {
	in := PodCheck{Pod: p, Now: time.Now(), UnschedulableTimeout: opt.UnschedulableTimeout, CrashLoopRestarts: opt.CrashLoopRestarts,
		ImagePullFailures: opt.ImagePullFailures}
	if PodPending(p) || pullingImages([]*api.Pod{p}) {
		events, _, err := c.Events(p.Namespace).List(ctx, ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing the events of namespace %s: %w", p.Namespace, err)
		}
		in.Events = events
	}
	e := CheckPod(in)
	if e != nil && e.Reason == RolloutCrashLoop {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		e.Logs = c.logTail(lctx, p.Namespace, p.Name, e.Container)
	}
	return e, nil
}
