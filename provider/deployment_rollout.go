package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
)

// rolloutPollInterval is how often a rollout's progress is read.
const rolloutPollInterval = 500 * time.Millisecond

// errRolloutStuck says the deployment controller gave up on a rollout.
var errRolloutStuck = errors.New("progress deadline exceeded")

// waitForRollout waits until the deployment's controller has seen the
// latest spec and every replica runs the new template and is available.
// On failure the error carries the reason the pods report.
func waitForRollout(ctx context.Context, c *client.Client, d *api.Deployment, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deployments := c.Deployments(d.Namespace)
	last := d
	for {
		cur, err := deployments.Get(ctx, d.Name)
		if err == nil {
			last = cur
			if done, stuck := rolloutState(cur); done {
				return nil
			} else if stuck {
				return fmt.Errorf("%w: %s", errRolloutStuck, podProblems(context.WithoutCancel(ctx), c, last))
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

func replicasOf(d *api.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// podProblems summarizes why the deployment's pods are not ready: failed
// pod conditions (e.g. PodScheduled=False with the scheduler's message)
// and waiting containers.
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
	seen := map[string]bool{}
	var problems []string
	for _, p := range pods {
		for _, cond := range p.Status.Conditions {
			if cond.Status != api.ConditionFalse || cond.Message == "" {
				continue
			}
			msg := fmt.Sprintf("%s=False (%s): %s", cond.Type, cond.Reason, cond.Message)
			if !seen[msg] {
				seen[msg] = true
				problems = append(problems, fmt.Sprintf("pod %s: %s", p.Name, msg))
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				msg := fmt.Sprintf("container %s waiting: %s %s", cs.Name, w.Reason, w.Message)
				if !seen[msg] {
					seen[msg] = true
					problems = append(problems, fmt.Sprintf("pod %s: %s", p.Name, msg))
				}
			}
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

// rolloutError reports a rollout that did not finish.
func rolloutError(diags *diag.Diagnostics, d *api.Deployment, err error) {
	diags.AddError(fmt.Sprintf("Deployment %s/%s did not roll out", d.Namespace, d.Name),
		fmt.Sprintf("The deployment was written, but its rollout failed: %v.\n\n"+
			"Fix the cause (for example free or add capacity, or lower the resource requests) and apply again; "+
			"raise timeouts for slow rollouts, or set wait_for_rollout = false to not wait.", err))
}
