package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/podcapacity"
)

// rolloutPollInterval is how often a rollout's progress is read.
const rolloutPollInterval = 500 * time.Millisecond

// errRolloutStuck says the deployment controller gave up on a rollout.
var errRolloutStuck = errors.New("progress deadline exceeded")

// waitForRollout waits until the deployment's controller has seen the
// latest spec and every replica runs the new template and is available.
// On failure the error carries the reason the pods report. While pods
// wait for a node pool to add nodes it logs so and keeps waiting; a pod no
// pool can ever hold fails the wait at once (see internal/podcapacity).
func waitForRollout(ctx context.Context, c *client.Client, d *api.Deployment, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deployments := c.Deployments(d.Namespace)
	last, told := d, ""
	for {
		cur, err := deployments.Get(ctx, d.Name)
		if err == nil {
			last = cur
			if done, stuck := rolloutState(cur); done {
				return nil
			} else if stuck {
				return fmt.Errorf("%w: %s", errRolloutStuck, podProblems(context.WithoutCancel(ctx), c, last))
			}
			capacity, err := podcapacity.ForDeployment(ctx, c, cur)
			if err != nil && ctx.Err() == nil {
				return err
			}
			if capacity.Never != nil {
				return fmt.Errorf("%w: %w", errNoPoolCanHold, capacity.Never)
			}
			if msg := capacity.Message(); msg != "" && msg != told {
				tflog.Info(ctx, "deployment "+d.Name+": "+msg)
				told = msg
			}
		} else if ctx.Err() == nil {
			return fmt.Errorf("reading deployment: %w", err)
		}
		select {
		case <-ctx.Done():
			st := last.Status
			return fmt.Errorf("not complete after %s (%d of %d replicas updated, %d available): %s",
				timeout, st.UpdatedReplicas, replicasOf(last), st.AvailableReplicas, podProblems(context.WithoutCancel(ctx), c, last))
		case <-time.After(rolloutPollInterval):
		}
	}
}

// rolloutState reads the status the way `maestro rollout status` does.
func rolloutState(d *api.Deployment) (done, stuck bool) {
	st := d.Status
	if st.ObservedGeneration < d.Generation {
		return false, false
	}
	if cond := api.FindCondition(st.Conditions, api.DeploymentProgressing); cond != nil && cond.Reason == api.ReasonProgressDeadlineExceeded {
		return false, true
	}
	want := replicasOf(d)
	return st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want, false
}

// errNoPoolCanHold says a pod of the rollout fits no node a pool can add.
var errNoPoolCanHold = errors.New("a pod can never run")

func replicasOf(d *api.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// podProblems summarizes why the deployment's pods are not ready.
func podProblems(ctx context.Context, c *client.Client, d *api.Deployment) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var sel string
	if d.Spec.Selector != nil {
		sel = labels.Set(d.Spec.Selector.MatchLabels).String()
	}
	pods, _, err := c.Pods(d.Namespace).List(ctx, client.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Sprintf("listing its pods failed: %v", err)
	}
	return describePods(ctx, c, pods)
}

// maxLogTails bounds how many crashed containers' logs one summary reads.
const maxLogTails = 2

// logTailLines is how much of a crashed container's log a summary shows.
const logTailLines = 5

// describePods summarizes why pods are not ready: failed pod conditions
// (e.g. PodScheduled=False with the scheduler's counted reasons), waiting
// containers, and for a container that exited with an error its exit code
// and the last lines of its log. Identical problems of several pods are
// reported once.
func describePods(ctx context.Context, c *client.Client, pods []*api.Pod) string {
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
			term := cs.State.Terminated
			if term == nil {
				term = cs.LastState.Terminated
			}
			crashed := term != nil && (term.ExitCode != 0 || term.Signal != 0)
			w := cs.State.Waiting
			if (w == nil || w.Reason == "") && !crashed {
				continue
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
				if tails < maxLogTails {
					tails++
					b.WriteString(logTail(ctx, c, p, cs.Name))
				}
			}
			add(p, b.String())
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

// logTail is the end of a container's log, ready to append to a problem.
func logTail(ctx context.Context, c *client.Client, p *api.Pod, container string) string {
	var buf bytes.Buffer
	err := c.PodLogs(ctx, p.Namespace, p.Name, client.LogOptions{Container: container, TailLines: logTailLines}, &buf)
	text := strings.TrimRight(buf.String(), "\n")
	switch {
	case err != nil:
		return fmt.Sprintf("; its log could not be read: %v", err)
	case text == "":
		return "; its log is empty"
	}
	return fmt.Sprintf("; its log ends with:\n    %s\n", strings.ReplaceAll(text, "\n", "\n    "))
}

// rolloutError reports a rollout that did not finish.
func rolloutError(diags *diag.Diagnostics, d *api.Deployment, err error) {
	diags.AddError(fmt.Sprintf("Deployment %s/%s did not roll out", d.Namespace, d.Name),
		fmt.Sprintf("The deployment was written, but its rollout failed: %v.\n\n"+
			"Fix the cause (for example free or add capacity, or lower the resource requests) and apply again; "+
			"raise timeouts for slow rollouts, or set wait_for_rollout = false to not wait.", err))
}
