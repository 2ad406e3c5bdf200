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
	m, tok, err := c.joinToken(ctx, m, pool)
	if err != nil {
		return err
	}
	req := cloud.MachineRequest{
		Name: m.Name, Cluster: c.cfg.Cluster, Pool: m.Spec.Pool, Zone: m.Spec.Zone, MachineType: m.Spec.MachineType,
		Host: m.Spec.Host, Spot: m.Spec.Spot, Labels: m.Spec.Labels, IdempotencyKey: m.UID,
		Bootstrap: cloud.Bootstrap{ServerURL: c.serverURL(pool), CAPEM: c.cfg.CAPEM, JoinToken: tok},
	}
	cm, err := cl.Create(ctx, req)
	if err != nil {
		return c.cloudFailed(ctx, m, err)
	}
	return c.provisioned(ctx, m, pool, cm)
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
		s.Phase, s.ProviderID, s.Message = api.MachineProvisioning, cm.ID, ""
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
func (c *Controller) joinToken(ctx context.Context, m *api.Machine, pool *api.NodePool) (*api.Machine, cloud.Secret, error) {
	ttl := startupTimeout(pool)
	c.mu.Lock()
	t, ok := c.tokens[m.UID]
	c.mu.Unlock()
	if ok && t.id == m.Status.JoinTokenID && c.d.Now().Add(ttl/2).Before(t.expires) {
		return m, t.secret, nil
	}
	if old := m.Status.JoinTokenID; old != "" {
		if err := ignoreNotFound(c.d.Client.DeleteToken(ctx, old), "revoking the old join token of machine %s", m.Name); err != nil {
			return nil, "", err
		}
	}
	resp, err := c.d.Client.CreateToken(ctx, api.TokenRequest{
		Role: "join", Node: m.Name, Uses: 1, TTLSeconds: int64(ttl / time.Second), Labels: nodeLabels(m),
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
	c.tokens[m.UID] = joinToken{id: resp.ID, secret: cloud.Secret(resp.Token), expires: c.d.Now().Add(ttl)}
	c.mu.Unlock()
	return out, cloud.Secret(resp.Token), nil
}

// nodeLabels are the labels the machine's node is admitted with: the
// pool's, its pool, zone and instance type.
func nodeLabels(m *api.Machine) map[string]string {
	ls := maps.Clone(m.Spec.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	ls[api.LabelNodePool] = m.Spec.Pool
	if m.Spec.Zone != "" {
		ls[api.LabelZone] = m.Spec.Zone
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
	msg := cerr.Error()
	if _, err := c.writeStatus(ctx, m, func(s *api.MachineStatus) {
		s.Phase, s.Message = api.MachinePending, msg
		c.setCondition(s, api.MachineProvisioned, api.ConditionFalse, api.ReasonCloudError, msg)
	}); err != nil {
		return errors.Join(cerr, err)
	}
	c.d.Recorder.Eventf(m, api.EventWarning, api.ReasonCloudError, "%s", msg)
	if ctx.Err() != nil || cloud.IsRetryable(cerr) {
		return fmt.Errorf("creating machine %s: %w", m.Name, cerr)
	}
	c.log.Warn("cloud refused machine", "machine", m.Name, "pool", m.Spec.Pool, "err", cerr)
	c.runner.EnqueueAfter(m.Name, cloudRetryAfter)
	return nil
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
