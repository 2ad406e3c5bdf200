package machine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

// remediationWait is how often a machine due for replacement checks again
// while its pool has maxInFlight replacements running.
const remediationWait = 5 * time.Second

// observe follows a provisioned machine's node: Running once it is Ready,
// remediation when it never joins or stays NotReady.
func (c *Controller) observe(ctx context.Context, m *api.Machine, pool *api.NodePool) error {
	node, joined := c.nodes.Get(m.Name)
	if joined {
		if err := c.ensureNode(ctx, m, node); err != nil {
			return err
		}
	}
	now := c.d.Now().UTC()
	switch {
	case joined && api.IsNodeReady(node):
		_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
			s.Phase, s.NodeName, s.Message = api.MachineRunning, node.Name, ""
			if s.NodeReadyAt == nil {
				s.NodeReadyAt = &now
			}
			c.setCondition(s, api.MachineNodeReady, api.ConditionTrue, api.ReasonNodeJoined, "node "+node.Name+" is Ready")
		})
		if err == nil && m.Status.NodeReadyAt == nil {
			c.log.Info("machine node ready", "machine", m.Name, "pool", m.Spec.Pool,
				"afterCreate", now.Sub(m.CreationTimestamp).Round(time.Millisecond).String())
			c.d.Recorder.Eventf(m, api.EventNormal, api.ReasonNodeJoined, "node %s joined and is Ready", node.Name)
		}
		return err
	case joined && m.Status.NodeReadyAt != nil:
		since := now
		if rc := api.FindCondition(node.Status.Conditions, api.NodeReady); rc != nil && !rc.LastTransitionTime.IsZero() {
			since = rc.LastTransitionTime
		}
		if deadline := since.Add(notReadyTimeout(pool)); now.Before(deadline) {
			c.runner.EnqueueAfter(m.Name, deadline.Sub(now)+10*time.Millisecond)
			_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
				c.setCondition(s, api.MachineNodeReady, api.ConditionFalse, api.ReasonNodeNotReady,
					fmt.Sprintf("node %s NotReady since %s", node.Name, since.Format(time.RFC3339)))
			})
			return err
		}
		return c.remediate(ctx, m, pool, api.ReasonNodeNotReady,
			fmt.Sprintf("node %s NotReady for more than %s (remediation.notReadyTimeoutSeconds)", node.Name, notReadyTimeout(pool)))
	}
	if !joined && m.Status.NodeReadyAt != nil {
		// It was Ready once: its Node was deleted (by hand, or the agent's
		// host was wiped). Nothing will register it again.
		return c.remediate(ctx, m, pool, api.ReasonNodeNotReady, fmt.Sprintf("node %s was deleted", m.Name))
	}
	if done, err := c.startupExpired(ctx, m, pool, node); done || err != nil {
		return err
	}
	msg := "waiting for node " + m.Name + " to join"
	if joined {
		msg = "node " + m.Name + " joined, not Ready yet"
	}
	_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		c.setCondition(s, api.MachineNodeReady, api.ConditionFalse, api.ReasonNodeJoining, msg)
	})
	return err
}

// startupExpired remediates a machine whose node did not join and become
// Ready within the startup timeout of its creation; otherwise it makes
// sure the machine is looked at again at the deadline.
func (c *Controller) startupExpired(ctx context.Context, m *api.Machine, pool *api.NodePool, node *api.Node) (bool, error) {
	timeout := startupTimeout(pool)
	deadline := m.CreationTimestamp.Add(timeout)
	if now := c.d.Now(); now.Before(deadline) {
		c.runner.EnqueueAfter(m.Name, deadline.Sub(now)+10*time.Millisecond)
		return false, nil
	}
	what := "did not join"
	if node != nil {
		what = "joined but did not become Ready"
	}
	msg := fmt.Sprintf("node %s %s within %s of the machine's creation (remediation.startupTimeoutSeconds)", m.Name, what, timeout)
	if m.Status.Message != "" && m.Status.Phase == api.MachinePending {
		msg += "; last cloud error: " + m.Status.Message
	}
	msg += c.agentLog(ctx, m, pool)
	return true, c.remediate(ctx, m, pool, api.ReasonNodeNotJoined, msg)
}

// agentLog quotes the agent's last log lines, when the cloud can show them.
func (c *Controller) agentLog(ctx context.Context, m *api.Machine, pool *api.NodePool) string {
	if m.Status.ProviderID == "" {
		return ""
	}
	cl, err := c.cfg.Clouds.For(ctx, pool)
	if err != nil {
		return ""
	}
	lr, ok := cl.(cloud.LogReader)
	if !ok {
		return ""
	}
	logs, err := lr.Logs(ctx, m.Status.ProviderID, c.cfg.LogLines)
	if err != nil {
		return "; the agent's log could not be read: " + err.Error()
	}
	if logs == "" {
		return "; the agent wrote no log"
	}
	return fmt.Sprintf("; the agent's last log lines:\n%s", logs)
}

// remediate replaces a machine for its node's health: phase Failed, the
// NodeReady condition with reason and message, an event, and its deletion
// (the pool controller creates the replacement), unless maxInFlight of
// its pool's machines are being replaced already.
func (c *Controller) remediate(ctx context.Context, m *api.Machine, pool *api.NodePool, reason, msg string) error {
	if !c.claimRemediation(m, pool) {
		c.runner.EnqueueAfter(m.Name, remediationWait)
		_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
			c.setCondition(s, api.MachineNodeReady, api.ConditionFalse, reason,
				msg+"; waiting: the pool has remediation.maxInFlight machines being replaced")
		})
		return err
	}
	if _, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.Message = api.MachineFailed, msg
		c.setCondition(s, api.MachineNodeReady, api.ConditionFalse, reason, msg)
	}); err != nil {
		c.releaseRemediation(m)
		return err
	}
	c.log.Warn("replacing machine", "machine", m.Name, "pool", m.Spec.Pool, "reason", reason)
	c.d.Recorder.Eventf(m, api.EventWarning, api.ReasonRemediating, "%s", msg)
	if err := c.d.Client.Machines().Delete(ctx, m.Name); err != nil && !api.IsNotFound(err) {
		c.releaseRemediation(m)
		return fmt.Errorf("deleting machine %s for remediation: %w", m.Name, err)
	}
	return nil
}

// claimRemediation counts the pool's machines being replaced for their
// health and takes a slot for m if fewer than maxInFlight are.
func (c *Controller) claimRemediation(m *api.Machine, pool *api.NodePool) bool {
	size := 1
	if pool.Spec.Size != nil {
		size = max(1, int(*pool.Spec.Size))
	}
	limit := 1
	if mif := pool.Spec.Remediation.MaxInFlight; mif != nil {
		if v, err := mif.ScaledValue(size, true); err == nil {
			limit = v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.remediating[m.Spec.Pool]
	if set == nil {
		set = map[string]bool{}
		c.remediating[m.Spec.Pool] = set
	}
	inFlight := len(set)
	for _, o := range c.machines.List() {
		if o.Spec.Pool == m.Spec.Pool && o.DeletionTimestamp != nil && !set[o.Name] && remediated(o) {
			inFlight++
		}
	}
	if set[m.Name] || inFlight >= limit {
		return false
	}
	set[m.Name] = true
	return true
}

func (c *Controller) releaseRemediation(m *api.Machine) {
	c.mu.Lock()
	delete(c.remediating[m.Spec.Pool], m.Name)
	c.mu.Unlock()
}

// remediated reports whether a machine is being replaced for its health.
func remediated(m *api.Machine) bool {
	cond := api.FindCondition(m.Status.Conditions, api.MachineNodeReady)
	return m.Status.Phase == api.MachineFailed || cond != nil && cond.Status == api.ConditionFalse &&
		(cond.Reason == api.ReasonNodeNotJoined || cond.Reason == api.ReasonNodeNotReady)
}

// ensureNode puts the machine's taints and provider id on its node.
func (c *Controller) ensureNode(ctx context.Context, m *api.Machine, node *api.Node) error {
	up := *node
	up.Spec.Taints = slices.Clone(node.Spec.Taints)
	changed := false
	for _, t := range m.Spec.Taints {
		if !slices.ContainsFunc(up.Spec.Taints, func(o api.Taint) bool { return o.Key == t.Key && o.Effect == t.Effect }) {
			up.Spec.Taints = append(up.Spec.Taints, t)
			changed = true
		}
	}
	if up.Spec.ProviderID == "" && m.Status.ProviderID != "" {
		up.Spec.ProviderID = m.Status.ProviderID
		changed = true
	}
	if !changed {
		return nil
	}
	_, err := c.d.Client.Nodes().Update(ctx, &up)
	return ignoreNotFound(err, "putting the taints of machine %s on its node", m.Name)
}
