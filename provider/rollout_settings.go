package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/client"
)

// The fail-fast settings of a wait for pods (maestro_deployment's rollout,
// maestro_pod's start): one schema, one reading, one explanation.

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
