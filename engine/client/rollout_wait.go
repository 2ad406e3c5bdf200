package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// RolloutOptions tunes WaitForRollout.
type RolloutOptions struct {
	// Timeout bounds the whole wait (0: until ctx ends).
	Timeout time.Duration
	// UnschedulableTimeout, CrashLoopRestarts and ImagePullFailures are
	// RolloutCheck's; start from DefaultRolloutOptions.
	UnschedulableTimeout time.Duration
	CrashLoopRestarts    int32
	ImagePullFailures    int32
	// PollInterval is how often the rollout is read (default 500 ms).
	PollInterval time.Duration
	// Progress, when set, is told every new status line ("Waiting for
	// rollout to finish: ..." with what pending pods wait for).
	Progress func(status string)
}

// DefaultRolloutOptions are the fail-fast defaults with no timeout.
func DefaultRolloutOptions() RolloutOptions {
	return RolloutOptions{UnschedulableTimeout: DefaultUnschedulableTimeout, CrashLoopRestarts: DefaultCrashLoopRestarts,
		ImagePullFailures: DefaultImagePullFailures}
}

// defaultRolloutPoll is how often a rollout's progress is read.
const defaultRolloutPoll = 500 * time.Millisecond

// WaitForRollout waits until the deployment's controller has seen its
// latest spec and every replica runs the new template and is available
// (CheckRollout). It fails as soon as waiting cannot help: a new pod
// unschedulable with no node pool adding room, a crash loop, a pod no pool
// could ever hold, the deployment's progress deadline. A failure is a
// *RolloutError with the reason, the cause in its source's words and
// advice; other errors are from reading the API.
func (c *Client) WaitForRollout(ctx context.Context, namespace, name string, opt RolloutOptions) error {
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = defaultRolloutPoll
	}
	var last *api.Deployment
	var freedAt time.Time // a pod of the deployment last seen terminating
	told := ""
	for {
		v, d, err := c.checkRollout(ctx, namespace, name, opt, &freedAt)
		switch {
		case err != nil && ctx.Err() == nil:
			return err
		case err == nil:
			last = d
			line := v.Status
			if len(v.Waiting) > 0 {
				line += " (" + strings.Join(v.Waiting, "; ") + ")"
			}
			if line != told && opt.Progress != nil {
				opt.Progress(line)
			}
			told = line
			if v.Done {
				return nil
			}
			if e := v.Failed; e != nil {
				c.explain(context.WithoutCancel(ctx), e, d)
				return e
			}
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) || last == nil {
				return fmt.Errorf("waiting for the rollout of deployment %s/%s: %w", namespace, name, ctx.Err())
			}
			return c.timedOut(context.WithoutCancel(ctx), last, opt.Timeout)
		case <-time.After(opt.PollInterval):
		}
	}
}

// checkRollout reads what CheckRollout needs: the deployment, its replica
// sets and pods, and the namespace's events when a pod is pending or
// waits for its image.
// freedAt is kept across calls: when a pod of the deployment was last
// seen terminating.
func (c *Client) checkRollout(ctx context.Context, namespace, name string, opt RolloutOptions, freedAt *time.Time) (RolloutVerdict, *api.Deployment, error) {
	d, err := c.Deployments(namespace).Get(ctx, name)
	if err != nil {
		return RolloutVerdict{}, nil, fmt.Errorf("reading deployment %s/%s: %w", namespace, name, err)
	}
	in := RolloutCheck{Deployment: d, Now: time.Now(), UnschedulableTimeout: opt.UnschedulableTimeout, CrashLoopRestarts: opt.CrashLoopRestarts,
		ImagePullFailures: opt.ImagePullFailures}
	if v := CheckRollout(in); v.Done || v.Failed != nil || d.Status.ObservedGeneration < d.Generation {
		return v, d, nil
	}
	lo := ListOptions{LabelSelector: deploymentSelector(d)}
	if in.ReplicaSets, _, err = c.ReplicaSets(namespace).List(ctx, lo); err != nil {
		return RolloutVerdict{}, nil, fmt.Errorf("listing the replica sets of deployment %s/%s: %w", namespace, name, err)
	}
	if in.Pods, _, err = c.Pods(namespace).List(ctx, lo); err != nil {
		return RolloutVerdict{}, nil, fmt.Errorf("listing the pods of deployment %s/%s: %w", namespace, name, err)
	}
	if slices.ContainsFunc(in.Pods, PodPending) || pullingImages(in.Pods) {
		if in.Events, _, err = c.Events(namespace).List(ctx, ListOptions{}); err != nil {
			return RolloutVerdict{}, nil, fmt.Errorf("listing the events of namespace %s: %w", namespace, err)
		}
	}
	in.Now = time.Now()
	if slices.ContainsFunc(in.Pods, func(p *api.Pod) bool { return p.DeletionTimestamp != nil }) {
		*freedAt = in.Now
	}
	in.RoomFreedAt = *freedAt
	return CheckRollout(in), d, nil
}

func deploymentSelector(d *api.Deployment) string {
	if d.Spec.Selector == nil {
		return ""
	}
	return labels.Set(d.Spec.Selector.MatchLabels).String()
}

// explain adds what a failure's reader needs: a crashed container's last
// log lines, or the pods' problems when the deployment stalled.
func (c *Client) explain(ctx context.Context, e *RolloutError, d *api.Deployment) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch e.Reason {
	case RolloutCrashLoop:
		e.Logs = c.logTail(ctx, d.Namespace, e.Pod, e.Container)
	case RolloutProgressDeadline:
		e.Pods = c.deploymentPodProblems(ctx, d)
		if s := SchedulingAdvice(e.Pods); s != "" {
			e.Advice = s + " " + e.Advice
		}
	}
}

// timedOut is the error of a wait that ran out of time.
func (c *Client) timedOut(ctx context.Context, d *api.Deployment, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st := d.Status
	e := &RolloutError{Namespace: d.Namespace, Name: d.Name, Reason: RolloutTimeout,
		Message: fmt.Sprintf("not complete after %s (%d of %d replicas updated, %d available)",
			timeout, st.UpdatedReplicas, api.Deref(d.Spec.Replicas, 1), st.AvailableReplicas),
		Pods: c.deploymentPodProblems(ctx, d)}
	e.Advice = RolloutAdvice(RolloutTimeout, e.Pods)
	return e
}

// deploymentPodProblems summarizes why the deployment's pods are not ready.
func (c *Client) deploymentPodProblems(ctx context.Context, d *api.Deployment) string {
	pods, _, err := c.Pods(d.Namespace).List(ctx, ListOptions{LabelSelector: deploymentSelector(d)})
	if err != nil {
		return fmt.Sprintf("listing its pods failed: %v", err)
	}
	return c.DescribePods(ctx, pods)
}

// maxLogTails bounds how many crashed containers' logs one summary reads.
const maxLogTails = 2

// logTailLines is how much of a crashed container's log a summary shows.
const logTailLines = 5

// DescribePods summarizes why pods are not ready: failed pod conditions
// (e.g. PodScheduled=False with the scheduler's counted reasons), waiting
// containers, and for a container that exited with an error its exit code
// and the last lines of its log. Identical problems of several pods are
// reported once.
func (c *Client) DescribePods(ctx context.Context, pods []*api.Pod) string {
	seen := map[string]bool{}
	var problems []string
	add := func(p *api.Pod, msg string) {
		if !seen[msg] {
			seen[msg] = true
			problems = append(problems, fmt.Sprintf("pod %s: %s", p.Name, msg))
		}
	}
	tails := 0
	for _, p := range pods {
		for _, cond := range p.Status.Conditions {
			if cond.Status == api.ConditionFalse && cond.Message != "" {
				add(p, fmt.Sprintf("%s=False (%s): %s", cond.Type, cond.Reason, cond.Message))
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			msg, crashed := containerProblem(cs)
			if msg == "" {
				continue
			}
			if crashed && tails < maxLogTails {
				tails++
				msg += logSuffix(c.logTail(ctx, p.Namespace, p.Name, cs.Name))
			}
			add(p, msg)
		}
	}
	if len(problems) == 0 {
		return "no pod reports a problem"
	}
	const maxProblems = 5
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	return strings.Join(problems, "; ")
}

// containerProblem describes a waiting or crashed container ("" when it
// is neither).
func containerProblem(cs api.ContainerStatus) (msg string, crashed bool) {
	term := cs.State.Terminated
	if term == nil {
		term = cs.LastState.Terminated
	}
	crashed = term != nil && (term.ExitCode != 0 || term.Signal != 0)
	w := cs.State.Waiting
	if (w == nil || w.Reason == "") && !crashed {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "container %s", cs.Name)
	if w != nil && w.Reason != "" {
		fmt.Fprintf(&b, " waiting: %s", w.Reason)
		if w.Message != "" {
			fmt.Fprintf(&b, " (%s)", w.Message)
		}
	}
	if crashed {
		fmt.Fprintf(&b, "; exited with code %d", term.ExitCode)
		if term.Reason != "" {
			fmt.Fprintf(&b, " (%s)", term.Reason)
		}
		if cs.RestartCount > 0 {
			fmt.Fprintf(&b, " after %d restarts", cs.RestartCount)
		}
	}
	return b.String(), crashed
}

// logTail is the end of a container's log, or why there is none, in
// parentheses.
func (c *Client) logTail(ctx context.Context, namespace, pod, container string) string {
	var buf bytes.Buffer
	err := c.PodLogs(ctx, namespace, pod, LogOptions{Container: container, TailLines: logTailLines}, &buf)
	text := strings.TrimRight(buf.String(), "\n")
	switch {
	case err != nil:
		return fmt.Sprintf("(its log could not be read: %v)", err)
	case text == "":
		return "(its log is empty)"
	}
	return text
}

// logSuffix is logTail ready to append to a problem.
func logSuffix(tail string) string {
	if strings.HasPrefix(tail, "(") {
		return "; " + strings.Trim(tail, "()")
	}
	return fmt.Sprintf("; its log ends with:\n    %s\n", strings.ReplaceAll(tail, "\n", "\n    "))
}
