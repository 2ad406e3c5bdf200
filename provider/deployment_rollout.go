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
	opt := client.DefaultRolloutOptions()
	if m != nil {
		var err error
		if opt, err = rolloutOptions(m.UnschedulableTimeout, m.CrashLoopRestarts); err != nil {
			return err
		}
	}
	opt.Timeout = timeout
	opt.Progress = func(status string) { tflog.Info(ctx, "deployment "+d.Namespace+"/"+d.Name+": "+status) }
	return c.WaitForRollout(ctx, d.Namespace, d.Name, opt)
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
	settings := failFastSettings(re.Reason, "rollouts")
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
