package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

// poolWaitInterval is how often the apply looks at the pool.
const poolWaitInterval = time.Second

// poolState is what a look at a pool found.
type poolState struct {
	// done: the pool is Ready, at its size, on the current template.
	done bool
	// failure is why the apply must stop now ("" while it may go on).
	failure string
	// progress describes where the pool is, for a timeout's message.
	progress string
}

// poolProgress judges a pool and its machines (pure). A machine the
// cloud refused (Provisioned=False, CloudError: SSH authentication,
// unreachable host; QuotaExceeded, PermissionDenied, InvalidRequest: what
// only a person can fix, with the cloud's own message), a node that never
// joined (NodeReady=False, NodeNotJoined, with the agent's last lines), a
// Failed machine or a pool reporting MachineFailed, NotEnoughHosts (more
// machines than ssh hosts) or one of the cloud's refusals end the wait at
// once, with that message, once the controller has seen the pool's
// current generation (before, they may be the previous spec's, which this
// change fixes). InsufficientCapacity is waited out (the cloud's message
// is the progress). Done is the pool's Ready condition with every machine
// Ready and on the current template.
func poolProgress(pool *api.NodePool, ms []*api.Machine) poolState {
	size := mplan.PoolSize(&pool.Spec)
	ready := api.FindCondition(pool.Status.Conditions, api.NodePoolReady)
	st := poolState{progress: fmt.Sprintf("%d of %d machines ready", pool.Status.ReadyMachines, size)}
	if ready != nil && ready.Status != api.ConditionTrue && ready.Reason != "" {
		st.progress += fmt.Sprintf(" (%s: %s)", ready.Reason, ready.Message)
	}
	if pool.Status.ObservedGeneration < pool.Generation {
		// Failures seen now may be the previous spec's, which this change
		// fixes (a host taken out of the list, a key replaced).
		st.progress = fmt.Sprintf("the node pool controller has not yet seen this change (generation %d, observed %d); %s",
			pool.Generation, pool.Status.ObservedGeneration, st.progress)
		return st
	}
	if f := machineFailures(pool.Name, ms); f != "" {
		st.failure = f
		return st
	}
	if ready == nil || ready.Reason != api.ReasonInsufficientCapacity {
		if w := machinesWithoutCapacity(pool.Name, ms); w != "" {
			st.progress += "; " + w
		}
	}
	if ready != nil && ready.Status == api.ConditionFalse {
		switch ready.Reason {
		case api.ReasonMachineFailed, api.ReasonNotEnoughHosts:
			st.failure = ready.Message
			return st
		case api.ReasonQuotaExceeded, api.ReasonPermissionDenied, api.ReasonInvalidRequest:
			st.failure = fmt.Sprintf("the cloud refused the pool's machines (%s): %s", ready.Reason, ready.Message)
			return st
		}
	}
	st.done = ready != nil && ready.Status == api.ConditionTrue && int(pool.Status.ReadyMachines) == size &&
		int(pool.Status.UpdatedMachines) == size
	return st
}

// machineFailures describes the pool's machines that failed for good.
func machineFailures(pool string, ms []*api.Machine) string {
	var out []string
	for _, m := range ms {
		if m.Spec.Pool != pool || m.DeletionTimestamp != nil {
			continue
		}
		where := "machine " + m.Name
		if m.Spec.Host != "" {
			where += " (host " + m.Spec.Host + ")"
		}
		if c := api.FindCondition(m.Status.Conditions, api.MachineProvisioned); c != nil && c.Status == api.ConditionFalse {
			switch c.Reason {
			case api.ReasonCloudError:
				out = append(out, fmt.Sprintf("%s could not be created: %s", where, c.Message))
				continue
			case api.ReasonQuotaExceeded, api.ReasonPermissionDenied, api.ReasonInvalidRequest:
				out = append(out, fmt.Sprintf("%s could not be created (%s): %s", where, c.Reason, c.Message))
				continue
			}
		}
		if c := api.FindCondition(m.Status.Conditions, api.MachineNodeReady); c != nil && c.Status == api.ConditionFalse && c.Reason == api.ReasonNodeNotJoined {
			out = append(out, fmt.Sprintf("%s: its node never joined: %s", where, c.Message))
			continue
		}
		if m.Status.Phase == api.MachineFailed {
			out = append(out, fmt.Sprintf("%s failed: %s", where, m.Status.Message))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// machinesWithoutCapacity describes the pool's machines waiting for the
// cloud's capacity (tried again: not a failure).
func machinesWithoutCapacity(pool string, ms []*api.Machine) string {
	var out []string
	for _, m := range ms {
		if m.Spec.Pool != pool || m.DeletionTimestamp != nil {
			continue
		}
		if c := api.FindCondition(m.Status.Conditions, api.MachineProvisioned); c != nil && c.Status == api.ConditionFalse && c.Reason == api.ReasonInsufficientCapacity {
			out = append(out, fmt.Sprintf("machine %s waits for capacity (%s)", m.Name, c.Message))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// waitPoolReady polls the pool and its machines until poolProgress says
// done or failed, or timeout passes.
func waitPoolReady(ctx context.Context, c *client.Client, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "not looked at yet"
	for {
		pool, err := c.NodePools().Get(ctx, name)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("reading the node pool: %w", err)
		}
		if err == nil {
			ms, _, err := c.Machines().List(ctx, client.ListOptions{})
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("listing machines: %w", err)
			}
			st := poolProgress(pool, ms)
			switch {
			case st.failure != "":
				return &poolFailure{msg: st.failure}
			case st.done:
				return nil
			}
			last = st.progress
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %s", timeout, last)
		case <-time.After(poolWaitInterval):
		}
	}
}

// poolFailure is a machine's failure that ended the wait.
type poolFailure struct{ msg string }

func (e *poolFailure) Error() string { return e.msg }
