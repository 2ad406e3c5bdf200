package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// rolloutPollInterval is how often a pod's progress is read (maestro_pod's
// wait; deployments poll in client.WaitForRollout).
const rolloutPollInterval = 500 * time.Millisecond

// waitForRollout waits for the deployment's rollout with the one
// definition `maestro rollout status` uses too (client.WaitForRollout):
// it fails fast, with the reason and advice, when pods are unschedulable
// with no node pool adding room for unschedulable_timeout, when a
// container crash loops past crash_loop_restarts, or when the progress
// deadline passes.
func waitForRollout(ctx context.Context, c *client.Client, d *api.Deployment, m *DeploymentResourceModel, timeout time.Duration) error {
	opt, err := rolloutOptions(m)
	if err != nil {
		return err
	}
	opt.Timeout = timeout
	opt.Progress = func(status string) { tflog.Info(ctx, "deployment "+d.Namespace+"/"+d.Name+": "+status) }
	return c.WaitForRollout(ctx, d.Namespace, d.Name, opt)
}

// rolloutOptions reads the wait's fail-fast settings (null: the defaults).
func rolloutOptions(m *DeploymentResourceModel) (client.RolloutOptions, error) {
	opt := client.DefaultRolloutOptions()
	if m == nil {
		return opt, nil
	}
	secs, err := durationSeconds(m.UnschedulableTimeout)
	if err != nil {
		return opt, fmt.Errorf("unschedulable_timeout: %w", err)
	}
	if secs != nil {
		opt.UnschedulableTimeout = time.Duration(*secs) * time.Second
	}
	if v := m.CrashLoopRestarts; !v.IsNull() && !v.IsUnknown() {
		opt.CrashLoopRestarts = int32(v.ValueInt64())
	}
	return opt, nil
}

// describePods summarizes why pods are not ready (client.DescribePods).
func describePods(ctx context.Context, c *client.Client, pods []*api.Pod) string {
	return c.DescribePods(ctx, pods)
}

// rolloutError reports a rollout that did not finish, with advice that
// matches its reason.
func rolloutError(diags *diag.Diagnostics, d *api.Deployment, err error) {
	var re *client.RolloutError
	if !errors.As(err, &re) {
		diags.AddError(fmt.Sprintf("Deployment %s/%s did not roll out", d.Namespace, d.Name),
			fmt.Sprintf("The deployment was written, but waiting for its rollout failed: %v.\n\n"+
				"Apply again to retry, or set wait_for_rollout = false to not wait.", err))
		return
	}
	advice := re.Advice
	re.Advice = "" // said apart below
	settings := "Raise timeouts for slow rollouts, or set wait_for_rollout = false to not wait."
	switch re.Reason {
	case client.RolloutUnschedulable:
		settings = "The wait gives up on pods no node can take after unschedulable_timeout (default 30s); raise it when nodes are on their way."
	case client.RolloutCrashLoop:
		settings = "The wait gives up on a container that crashes again after crash_loop_restarts restarts (default 3); raise it for containers that need a few tries."
	}
	diags.AddError(fmt.Sprintf("Deployment %s/%s did not roll out", d.Namespace, d.Name),
		fmt.Sprintf("The deployment was written, but its rollout failed: %v\n\n%s\n\n%s", re, advice, settings))
}

// int64OrNull is the state of an optional number the server defaults:
// null when the configuration left it out (or on import) and the server
// holds just its default.
func int64OrNull(actual, serverDefault int64, prior types.Int64, importing bool) types.Int64 {
	if (prior.IsNull() || importing) && actual == serverDefault {
		return types.Int64Null()
	}
	return types.Int64Value(actual)
}
