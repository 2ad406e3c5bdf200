package machine

import (
	"context"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

// DefaultCloudPollInterval is how often the machines of cloud pools are
// listed in their cloud (Config.CloudPollInterval's default): a spot
// machine's interruption notice (two minutes on EC2, thirty seconds on
// GCE) must be seen well within it.
const DefaultCloudPollInterval = 10 * time.Second

// pollClouds lists every pool's machines in its cloud each interval and
// enqueues the machines whose cloud machine is going away: terminated
// outside maestro, or a spot machine the cloud announced it reclaims.
// ssh pools are not polled: their machines are existing hosts that only
// maestro stops, and listing dials every host.
func (c *Controller) pollClouds(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, pool := range c.pools.List() {
			if pool.Spec.Provider == api.ProviderSSH || pool.DeletionTimestamp != nil {
				continue
			}
			if err := c.pollPool(ctx, pool); err != nil && ctx.Err() == nil {
				c.log.Debug("listing a pool's cloud machines failed; next poll retries", "pool", pool.Name, "err", err)
			}
		}
	}
}

func (c *Controller) pollPool(ctx context.Context, pool *api.NodePool) error {
	byID := map[string]*api.Machine{}
	for _, m := range c.machines.List() {
		if m.Spec.Pool == pool.Name && m.DeletionTimestamp == nil && m.Status.ProviderID != "" {
			byID[m.Status.ProviderID] = m
		}
	}
	if len(byID) == 0 {
		return nil
	}
	cl, err := c.cfg.Clouds.For(ctx, pool)
	if err != nil {
		return err
	}
	ms, err := cl.List(ctx, cloud.Filter{Cluster: c.cfg.Cluster, Pool: pool.Name})
	if err != nil {
		return err
	}
	for _, cm := range ms {
		m, ok := byID[cm.ID]
		if !ok {
			continue
		}
		c.mu.Lock()
		old, seen := c.cloudSeen[m.UID]
		c.cloudSeen[m.UID] = cm
		c.mu.Unlock()
		if goingAway(cm) && (!seen || !goingAway(old)) {
			c.runner.Queue.Add(m.Name)
		}
	}
	return nil
}

// goingAway reports whether the cloud is taking the machine: terminated or
// stopping outside maestro (maestro deletes only Machines marked
// deleted, which are not polled), or announced for reclaim.
func goingAway(cm cloud.Machine) bool {
	return cm.Interrupted || cm.State == cloud.StateTerminated || cm.State == cloud.StateStopping
}

// cloudTakesIt replaces a machine its cloud is taking away, at once and
// outside remediation.maxInFlight (the cloud does not wait): a spot
// machine announced for reclaim is deleted now, so its node is drained
// while it still runs and the pool makes its replacement; a terminated
// one is deleted (its node is gone with it). It reports whether it acted.
func (c *Controller) cloudTakesIt(ctx context.Context, m *api.Machine) (bool, error) {
	c.mu.Lock()
	cm, ok := c.cloudSeen[m.UID]
	c.mu.Unlock()
	if !ok || !goingAway(cm) || cm.ID != m.Status.ProviderID {
		return false, nil
	}
	reason, msg := api.ReasonMachineTerminated, fmt.Sprintf("cloud machine %s is %s", cm.ID, cm.State)
	if cm.Interrupted && cm.State != cloud.StateTerminated {
		reason, msg = api.ReasonSpotInterrupted, fmt.Sprintf("the cloud is reclaiming spot machine %s: draining and replacing it", cm.ID)
	}
	if _, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.Message = api.MachineFailed, msg
		c.setCondition(s, api.MachineNodeReady, api.ConditionFalse, reason, msg)
	}); err != nil {
		return true, err
	}
	c.log.Warn("replacing machine", "machine", m.Name, "pool", m.Spec.Pool, "reason", reason, "providerID", cm.ID)
	c.d.Recorder.Eventf(m, api.EventWarning, reason, "%s", msg)
	if err := c.d.Client.Machines().Delete(ctx, m.Name); err != nil && !api.IsNotFound(err) {
		return true, fmt.Errorf("deleting machine %s its cloud is taking: %w", m.Name, err)
	}
	return true, nil
}

// cloudTerminated reports whether the last poll saw m's cloud machine
// terminated (nothing runs there to drain).
func (c *Controller) cloudTerminated(m *api.Machine) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cm, ok := c.cloudSeen[m.UID]
	return ok && cm.ID == m.Status.ProviderID && cm.State == cloud.StateTerminated
}
