package machine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

// cloudRetryAfter is when a machine whose cloud refused it for a reason
// that needs a change (a wrong key, an unknown host) is tried again: the
// change may be a secret or a host, which do not enqueue the machine.
const cloudRetryAfter = 30 * time.Second

// provision creates the machine in its cloud with a fresh join token.
func (c *Controller) provision(ctx context.Context, m *api.Machine, pool *api.NodePool) error {
	if done, err := c.startupExpired(ctx, m, pool, nil); done || err != nil {
		return err
	}
	cl, err := c.cfg.Clouds.For(ctx, pool)
	if err != nil {
		return c.cloudFailed(ctx, m, err)
	}
	if cm, found, err := c.madeEarlier(ctx, cl, m); err != nil || found {
		if err != nil {
			return c.cloudFailed(ctx, m, err)
		}
		return c.provisioned(ctx, m, pool, cm)
	}
	return c.create(ctx, cl, m, pool)
}

// create makes the cloud machine in the machine's zone, or, when that zone
// has no capacity, in the pool's next zones in turn (each zone with its
// own join token, whose zone label is the zone's, and its own idempotency
// key, so a retried create of one zone never becomes another's).
func (c *Controller) create(ctx context.Context, cl cloud.Cloud, m *api.Machine, pool *api.NodePool) error {
	var cerr error
	for i, zone := range zonesToTry(m.Spec.Zone, pool.Spec.Zones) {
		mm, tok, err := c.joinToken(ctx, m, pool, zone)
		if err != nil {
			return err
		}
		m = mm
		key := m.UID
		if i > 0 {
			key = m.UID + "/" + zone
		}
		req := cloud.MachineRequest{
			Name: m.Name, Cluster: c.cfg.Cluster, Pool: m.Spec.Pool, Zone: zone, MachineType: m.Spec.MachineType,
			Host: m.Spec.Host, Spot: m.Spec.Spot, Labels: m.Spec.Labels, IdempotencyKey: key,
			Bootstrap: cloud.Bootstrap{ServerURL: c.serverURL(pool), CAPEM: c.cfg.CAPEM, JoinToken: tok},
		}
		cm, err := cl.Create(ctx, req)
		if err == nil {
			if cm.Zone == "" {
				cm.Zone = zone
			}
			return c.provisioned(ctx, m, pool, cm)
		}
		cerr = err
		if !errors.Is(err, cloud.ErrCapacity) {
			break
		}
		c.log.Info("no capacity in zone; trying the pool's next zone", "machine", m.Name, "pool", m.Spec.Pool, "zone", zone)
	}
	return c.cloudFailed(ctx, m, cerr)
}

// zonesToTry is the machine's zone first, then the pool's other zones in
// their order.
func zonesToTry(zone string, poolZones []string) []string {
	out := []string{zone}
	for _, z := range poolZones {
		if z != zone {
			out = append(out, z)
		}
	}
	return out
}

// madeEarlier finds the cloud machine of a Machine whose join token was
// made by an earlier controller (a restart, another leader) that may have
// called Create before it could record the result: its agent holds that
// token, so a new one would lock it out.
func (c *Controller) madeEarlier(ctx context.Context, cl cloud.Cloud, m *api.Machine) (cloud.Machine, bool, error) {
	c.mu.Lock()
	_, mine := c.tokens[m.UID]
	c.mu.Unlock()
	if mine || m.Status.JoinTokenID == "" {
		return cloud.Machine{}, false, nil
	}
	ms, err := cl.List(ctx, cloud.Filter{Cluster: c.cfg.Cluster, Pool: m.Spec.Pool})
	if err != nil {
		return cloud.Machine{}, false, err
	}
	for _, cm := range ms {
		if cm.Name == m.Name && cm.State != cloud.StateTerminated && cm.State != cloud.StateStopping {
			return cm, true, nil
		}
	}
	return cloud.Machine{}, false, nil
}

// provisioned records the cloud machine: phase Provisioning.
func (c *Controller) provisioned(ctx context.Context, m *api.Machine, pool *api.NodePool, cm cloud.Machine) error {
	now := c.d.Now().UTC()
	_, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.ProviderID, s.Message, s.Zone = api.MachineProvisioning, cm.ID, "", cm.Zone
		s.Addresses = nil
		for _, a := range cm.Addresses {
			s.Addresses = append(s.Addresses, api.NodeAddress{Type: api.NodeInternalIP, Address: a})
		}
		s.ProvisionedAt = &now
		c.setCondition(s, api.MachineProvisioned, api.ConditionTrue, api.ReasonProvisioned, "cloud machine "+cm.ID)
	})
	if err != nil {
		return err
	}
	c.log.Info("machine provisioned", "machine", m.Name, "pool", m.Spec.Pool, "providerID", cm.ID)
	c.d.Recorder.Eventf(m, api.EventNormal, api.ReasonProvisioned, "cloud machine %s created", cm.ID)
	c.runner.EnqueueAfter(m.Name, startupTimeout(pool)) // the startup deadline, if nothing else happens
	return nil
}

// joinToken returns the secret of the machine's join token, making a new
// one (and revoking the old) unless this controller holds a fresh one. The
// token's id is in the machine's status before the secret goes anywhere,
// so a crash never leaves a token nobody revokes.
func (c *Controller) joinToken(ctx context.Context, m *api.Machine, pool *api.NodePool, zone string) (*api.Machine, cloud.Secret, error) {
	ttl := startupTimeout(pool)
	c.mu.Lock()
	t, ok := c.tokens[m.UID]
	c.mu.Unlock()
	if ok && t.id == m.Status.JoinTokenID && t.zone == zone && c.d.Now().Add(ttl/2).Before(t.expires) {
		return m, t.secret, nil
	}
	if old := m.Status.JoinTokenID; old != "" {
		if err := ignoreNotFound(c.d.Client.DeleteToken(ctx, old), "revoking the old join token of machine %s", m.Name); err != nil {
			return nil, "", err
		}
	}
	resp, err := c.d.Client.CreateToken(ctx, api.TokenRequest{
		Role: "join", Node: m.Name, Uses: 1, TTLSeconds: int64(ttl / time.Second), Labels: nodeLabels(m, zone), Taints: m.Spec.Taints,
		Description: fmt.Sprintf("machine %s of node pool %s", m.Name, m.Spec.Pool),
	})
	if err != nil {
		return nil, "", fmt.Errorf("creating the join token of machine %s: %w", m.Name, err)
	}
	out, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.JoinTokenID = api.MachinePending, resp.ID
	})
	if err != nil {
		_ = c.d.Client.DeleteToken(ctx, resp.ID)
		return nil, "", err
	}
	c.mu.Lock()
	c.tokens[m.UID] = joinToken{id: resp.ID, secret: cloud.Secret(resp.Token), expires: c.d.Now().Add(ttl), zone: zone}
	c.mu.Unlock()
	return out, cloud.Secret(resp.Token), nil
}

// nodeLabels are the labels the machine's node is admitted with: the
// pool's, its pool, zone (where the cloud is asked to place it) and
// instance type.
func nodeLabels(m *api.Machine, zone string) map[string]string {
	ls := maps.Clone(m.Spec.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	ls[api.LabelNodePool] = m.Spec.Pool
	if zone != "" {
		ls[api.LabelZone] = zone
	}
	if m.Spec.MachineType != "" {
		ls[api.LabelInstanceType] = m.Spec.MachineType
	}
	return ls
}

// cloudFailed records a cloud's refusal: condition Provisioned=False,
// reason CloudError, with the cloud's message (which names the host and
// what failed, never a secret), and an event. A retryable error returns
// for a retry with backoff; any other is tried again after a while.
func (c *Controller) cloudFailed(ctx context.Context, m *api.Machine, cerr error) error {
	msg, reason := cerr.Error(), CloudErrorReason(cerr)
	if _, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.Message = api.MachinePending, msg
		c.setCondition(s, api.MachineProvisioned, api.ConditionFalse, reason, msg)
	}); err != nil {
		return errors.Join(cerr, err)
	}
	c.d.Recorder.Eventf(m, api.EventWarning, reason, "%s", msg)
	if ctx.Err() != nil || cloud.IsRetryable(cerr) {
		return fmt.Errorf("creating machine %s: %w", m.Name, cerr)
	}
	c.log.Warn("cloud refused machine", "machine", m.Name, "pool", m.Spec.Pool, "err", cerr)
	c.runner.EnqueueAfter(m.Name, cloudRetryAfter)
	return nil
}

// CloudErrorReason is the reason of a machine's Provisioned=False
// condition for a cloud's error: QuotaExceeded, PermissionDenied and
// InvalidRequest need a person (an apply fails at once with them);
// InsufficientCapacity (no zone had room) is retried and is no failure;
// anything else is CloudError.
func CloudErrorReason(err error) string {
	switch {
	case errors.Is(err, cloud.ErrQuota):
		return api.ReasonQuotaExceeded
	case errors.Is(err, cloud.ErrPermission):
		return api.ReasonPermissionDenied
	case errors.Is(err, cloud.ErrInvalid):
		return api.ReasonInvalidRequest
	case errors.Is(err, cloud.ErrCapacity):
		return api.ReasonInsufficientCapacity
	}
	return api.ReasonCloudError
}

func startupTimeout(pool *api.NodePool) time.Duration {
	return seconds(pool.Spec.Remediation.StartupTimeoutSeconds, api.DefaultStartupTimeoutSeconds)
}

func notReadyTimeout(pool *api.NodePool) time.Duration {
	return seconds(pool.Spec.Remediation.NotReadyTimeoutSeconds, api.DefaultNotReadyTimeoutSeconds)
}

func drainTimeout(pool *api.NodePool) time.Duration {
	return seconds(pool.Spec.DrainTimeoutSeconds, api.DefaultDrainTimeoutSeconds)
}

func seconds(v *int64, def int64) time.Duration {
	if v == nil {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*v) * time.Second
}

func statusEqual(a, b api.MachineStatus) bool { return reflect.DeepEqual(a, b) }

// serverURL is the API server URL pool's machines join: the resolver's for
// the pool when it has one (local machines on their own network reach the
// server at another address), else the configured one.
func (c *Controller) serverURL(pool *api.NodePool) string {
	if r, ok := c.cfg.Clouds.(interface{ ServerURL(*api.NodePool) string }); ok {
		if u := r.ServerURL(pool); u != "" {
			return u
		}
	}
	return c.cfg.ServerURL
}
