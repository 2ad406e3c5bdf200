package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/client"
)

// The fail-fast settings of a wait for pods (maestro_deployment's rollout,
// maestro_pod's start): one schema, one reading, one explanation.

// failFastAttributes are the schema of unschedulable_timeout and
// crash_loop_restarts; subject is the pods waited for ("a new pod"), wait
// the wait's name ("the rollout wait").
func failFastAttributes(subject, wait string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"unschedulable_timeout": schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("How long %s may stay unschedulable, with no node pool adding a node for it, before %s fails with the scheduler's reason (default `%s`; `0s`: at the scheduler's first verdict). "+
				"While the cluster autoscaler says a pool is adding nodes for the pod, the wait goes on; when it says no pool's node could ever hold the pod, the wait fails at once.",
				subject, wait, client.DefaultUnschedulableTimeout),
			Optional:   true,
			Validators: []validator.String{durationValidator{}},
		},
		"crash_loop_restarts": schema.Int64Attribute{
			MarkdownDescription: fmt.Sprintf("How many restarts a container of %s may make: when it crashes again after that many, %s fails at once with its exit code and last log lines (default `%d`; `0`: at the first crash).",
				subject, wait, client.DefaultCrashLoopRestarts),
			Optional:   true,
			Validators: []validator.Int64{int64RangeValidator{min: 0, max: 1000}},
		},
	}
}

// rolloutOptions reads the wait's fail-fast settings (null: the defaults).
func rolloutOptions(unschedulableTimeout types.String, crashLoopRestarts types.Int64) (client.RolloutOptions, error) {
	opt := client.DefaultRolloutOptions()
	secs, err := durationSeconds(unschedulableTimeout)
	if err != nil {
		return opt, fmt.Errorf("unschedulable_timeout: %w", err)
	}
	if secs != nil {
		opt.UnschedulableTimeout = time.Duration(*secs) * time.Second
	}
	if v := crashLoopRestarts; !v.IsNull() && !v.IsUnknown() {
		opt.CrashLoopRestarts = int32(v.ValueInt64())
	}
	return opt, nil
}

// failFastSettings says which setting made the wait give up, for the
// error's last paragraph.
func failFastSettings(reason client.RolloutReason, subject string) string {
	switch reason {
	case client.RolloutUnschedulable:
		return "The wait gives up on pods no node can take after unschedulable_timeout (default 30s); raise it when nodes are on their way."
	case client.RolloutCrashLoop:
		return "The wait gives up on a container that crashes again after crash_loop_restarts restarts (default 3); raise it for containers that need a few tries."
	case client.RolloutImagePull:
		return fmt.Sprintf("The wait gives up on an image that failed to pull %d times (about 30s of the agent's retries), or that a pull policy of Never keeps off the node.", client.DefaultImagePullFailures)
	}
	return fmt.Sprintf("Raise timeouts for slow %s, or set wait_for_rollout = false to not wait.", subject)
}
