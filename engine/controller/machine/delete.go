package machine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

// finalize releases a deleted machine, step by step, each step safe to
// repeat: drain its node, delete it in the cloud, revoke its join token,
// delete its Node, then drop the finalizer.
func (c *Controller) finalize(ctx context.Context, m *api.Machine, pool *api.NodePool) error {
	if !slices.Contains(m.Finalizers, api.FinalizerMachine) {
		return nil // not ours (yet): nothing was made
	}
	m, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) { s.Phase = api.MachineDeleting })
	if err != nil {
		return err
	}
	node, joined := c.nodes.Get(m.Name)
	if joined {
		done, err := c.drain(ctx, m, pool, node)
		if !done || err != nil {
			return err
		}
	}
	if err := c.deleteCloudMachine(ctx, m, pool); err != nil {
		return c.releaseLater(ctx, m, err)
	}
	if id := m.Status.JoinTokenID; id != "" {
		if err := ignoreNotFound(c.d.Client.DeleteToken(ctx, id), "revoking the join token of machine %s", m.Name); err != nil {
			return err
		}
	}
	if joined {
		if err := ignoreNotFound(c.d.Client.Nodes().Delete(ctx, m.Name), "deleting the node of machine %s", m.Name); err != nil {
			return err
		}
	}
	up := *m
	up.Finalizers = slices.DeleteFunc(slices.Clone(m.Finalizers), func(f string) bool { return f == api.FinalizerMachine })
	if _, err := c.d.Client.Machines().Update(ctx, &up); err != nil {
		return ignoreNotFound(err, "removing the finalizer of machine %s", m.Name)
	}
	c.forget(m.Name, m.UID)
	c.log.Info("machine deleted", "machine", m.Name, "pool", m.Spec.Pool, "providerID", m.Status.ProviderID)
	return nil
}

// drain runs one drain pass over the machine's node, recording it in the
// Draining condition; it reports whether the machine may go on (drained,
// timed out, or the node is not Ready so none of its pods can stop).
func (c *Controller) drain(ctx context.Context, m *api.Machine, pool *api.NodePool, node *api.Node) (bool, error) {
	cond := api.FindCondition(m.Status.Conditions, api.MachineDraining)
	switch {
	case cond != nil && cond.Status == api.ConditionFalse:
		return true, nil
	case !api.IsNodeReady(node) || c.cloudTerminated(m):
		why := "node " + node.Name + " is not Ready: its pods are deleted with it"
		if api.IsNodeReady(node) {
			why = "cloud machine " + m.Status.ProviderID + " is terminated: its pods are deleted with its node"
		}
		_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
			c.setCondition(s, api.MachineDraining, api.ConditionFalse, api.ReasonDrainSkipped, why)
		})
		return err == nil, err
	case cond == nil:
		var err error
		if m, err = c.writeStatus(ctx, m, func(s *api.MachineStatus) {
			c.setCondition(s, api.MachineDraining, api.ConditionTrue, api.ReasonDrainStarted, "draining node "+node.Name)
		}); err != nil {
			return false, err
		}
		c.d.Recorder.Eventf(m, api.EventNormal, api.ReasonDrainStarted, "draining node %s", node.Name)
		cond = api.FindCondition(m.Status.Conditions, api.MachineDraining)
	}
	step, err := c.drainer.Step(ctx, node)
	if err != nil {
		return false, err
	}
	timeout := drainTimeout(pool)
	elapsed := c.d.Now().Sub(cond.LastTransitionTime)
	var reason, msg string
	switch {
	case step.Done:
		reason, msg = api.ReasonDrained, fmt.Sprintf("node %s drained in %s", node.Name, elapsed.Round(time.Millisecond))
	case elapsed >= timeout:
		reason, msg = api.ReasonDrainTimeout, fmt.Sprintf("node %s not drained within %s (drainTimeoutSeconds), still waiting for: %s",
			node.Name, timeout, strings.Join(step.Waiting, "; "))
	default:
		c.runner.EnqueueAfter(m.Name, drainPoll)
		_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
			c.setCondition(s, api.MachineDraining, api.ConditionTrue, api.ReasonDrainStarted,
				fmt.Sprintf("draining node %s: waiting for %d: %s", node.Name, len(step.Waiting), first(step.Waiting)))
		})
		return false, err
	}
	if _, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		c.setCondition(s, api.MachineDraining, api.ConditionFalse, reason, msg)
	}); err != nil {
		return false, err
	}
	typ := api.EventNormal
	if reason == api.ReasonDrainTimeout {
		typ = api.EventWarning
	}
	c.d.Recorder.Eventf(m, typ, reason, "%s", msg)
	c.drainer.Forget(node.Name)
	// The status write enqueues the machine again; the next pass goes on.
	return false, nil
}

// refusedCreate reports whether the machine's last Create failed in its
// cloud (Provisioned=False with a cloud's refusal: CloudError,
// QuotaExceeded, ...), no provider id ever recorded.
func refusedCreate(m *api.Machine) bool {
	c := api.FindCondition(m.Status.Conditions, api.MachineProvisioned)
	return m.Status.ProviderID == "" && c != nil && c.Status == api.ConditionFalse && c.Reason != api.ReasonProvisioned
}

// releaseRetry is how often a deleted machine whose cloud cannot release
// it for now (an ssh host that does not answer) tries again.
const releaseRetry = 10 * time.Second

// releasePrefix starts the message of a machine waiting for its release.
const releasePrefix = "deleting: waiting for its cloud to release it: "

// releaseLater handles a failed cloud delete. A retryable one (the host is
// unreachable) is tried again every releaseRetry, with no growing backoff,
// so the machine goes soon after its host is back, however long it was
// away; its replacement never waits for it (the pool counts it deleting).
// The message says what it waits for. Any other error is returned.
func (c *Controller) releaseLater(ctx context.Context, m *api.Machine, err error) error {
	if !cloud.IsRetryable(err) || ctx.Err() != nil {
		return err
	}
	c.log.Warn("machine not released yet; retrying", "machine", m.Name, "pool", m.Spec.Pool, "retryIn", releaseRetry.String(), "err", err)
	c.runner.EnqueueAfter(m.Name, releaseRetry)
	if strings.HasPrefix(m.Status.Message, releasePrefix) {
		return nil // said already: a status write per attempt would start another at once
	}
	_, werr := c.writeStatus(ctx, m, func(s *api.MachineStatus) { s.Message = releasePrefix + err.Error() })
	return werr
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// deleteCloudMachine deletes the machine in its cloud: by provider id, or,
// when none was recorded (a Create whose answer was lost), every machine
// of the pool with its name.
func (c *Controller) deleteCloudMachine(ctx context.Context, m *api.Machine, pool *api.NodePool) error {
	if m.Status.ProviderID == "" && m.Status.JoinTokenID == "" {
		return nil // no token was made: no Create was ever tried
	}
	cl, err := c.cfg.Clouds.For(ctx, pool)
	if err != nil {
		return fmt.Errorf("deleting machine %s: %w", m.Name, err)
	}
	ids := []string{m.Status.ProviderID}
	if m.Status.ProviderID == "" {
		ids = nil
		ms, err := cl.List(ctx, cloud.Filter{Cluster: c.cfg.Cluster, Pool: m.Spec.Pool})
		if err != nil && refusedCreate(m) && (errors.Is(err, cloud.ErrInvalid) || errors.Is(err, cloud.ErrPermission)) {
			// The cloud refuses us (a wrong key, no credentials) as it
			// refused the Create: nothing was made, and waiting would hold the
			// Machine (and its pool) forever. Its join token is revoked.
			c.log.Warn("machine never made: not looking for it in its cloud, which refuses us", "machine", m.Name, "pool", m.Spec.Pool, "err", err)
			c.d.Recorder.Eventf(m, api.EventWarning, api.ReasonCloudError,
				"deleting without the cloud, which refuses to list machines as it refused to create this one: %v", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("finding machine %s in its cloud: %w", m.Name, err)
		}
		for _, cm := range ms {
			if cm.Name == m.Name {
				ids = append(ids, cm.ID)
			}
		}
	}
	for _, id := range ids {
		if err := cl.Delete(ctx, id); err != nil {
			return fmt.Errorf("deleting machine %s (%s) in its cloud: %w", m.Name, id, err)
		}
	}
	return nil
}
