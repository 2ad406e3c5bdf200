package machine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/clouds"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/drain"
)

// Config is what machines are bootstrapped with.
type Config struct {
	// Clouds gives each pool's cloud (required).
	Clouds clouds.Resolver
	// ServerURL is the API server agents join (default: the client's).
	ServerURL string
	// CAPEM is the cluster CA certificate agents verify the server with.
	CAPEM []byte
	// Cluster scopes cloud machines (default: the cluster id of GET
	// /v1/cluster-info).
	Cluster string
	// LogLines is how many of the agent's last log lines a NodeNotJoined
	// message quotes (default 20).
	LogLines int
	// CloudPollInterval is how often cloud pools' machines are listed for
	// terminations and spot interruptions (default
	// DefaultCloudPollInterval).
	CloudPollInterval time.Duration
}

// drainPoll is how often a drain is checked while it waits.
const drainPoll = time.Second

// Controller reconciles Machines.
type Controller struct {
	d        controller.Deps
	cfg      Config
	log      *slog.Logger
	machines *client.Informer[*api.Machine]
	pools    *client.Informer[*api.NodePool]
	nodes    *client.Informer[*api.Node]
	drainer  *drain.Drainer
	runner   *controller.Runner

	mu          sync.Mutex
	tokens      map[string]joinToken       // machine uid -> the secret of its join token, until created
	remediating map[string]map[string]bool // pool -> machines deleted for their health, not yet seen deleting
	cloudSeen   map[string]cloud.Machine   // machine uid -> its cloud machine at the last poll
}

// joinToken is a join token made for a machine whose Create has not
// succeeded yet: the secret exists only here and in the cloud request.
type joinToken struct {
	id      string
	secret  cloud.Secret
	expires time.Time
	zone    string // the zone label it admits the node with
}

// New registers the controller's informer handlers.
func New(d controller.Deps, cfg Config) *Controller {
	d = d.WithDefaults()
	if cfg.ServerURL == "" {
		cfg.ServerURL = d.Client.Server()
	}
	if cfg.LogLines <= 0 {
		cfg.LogLines = 20
	}
	if cfg.CloudPollInterval <= 0 {
		cfg.CloudPollInterval = DefaultCloudPollInterval
	}
	c := &Controller{d: d, cfg: cfg, log: d.Log.With("controller", "machine"),
		machines: controller.InformerFor[*api.Machine](d.Informers), pools: controller.InformerFor[*api.NodePool](d.Informers),
		nodes: d.Informers.Nodes(), drainer: drain.New(d),
		tokens: map[string]joinToken{}, remediating: map[string]map[string]bool{}, cloudSeen: map[string]cloud.Machine{}}
	c.runner = controller.NewRunner("machine", d.Config.Workers, d.Log, c.reconcile)
	c.machines.AddHandler(controller.Handler[*api.Machine](c.runner))
	c.nodes.AddHandler(client.Handler[*api.Node]{
		OnAdd:    func(n *api.Node) { c.enqueueName(n.Name) },
		OnUpdate: c.nodeUpdated,
		OnDelete: func(n *api.Node) { c.enqueueName(n.Name) },
	})
	c.d.Informers.Pods().AddHandler(client.Handler[*api.Pod]{
		OnDelete: func(p *api.Pod) { c.enqueueDeleting(p.Spec.NodeName) },
	})
	return c
}

// nodeUpdated enqueues a node's machine when what the controller acts on
// changed (not on every heartbeat).
func (c *Controller) nodeUpdated(old, n *api.Node) {
	if api.IsNodeReady(old) != api.IsNodeReady(n) || len(old.Spec.Taints) != len(n.Spec.Taints) ||
		old.Spec.ProviderID != n.Spec.ProviderID || old.Spec.Unschedulable != n.Spec.Unschedulable {
		c.enqueueName(n.Name)
	}
}

func (c *Controller) enqueueName(name string) {
	if _, ok := c.machines.Get(name); ok {
		c.runner.Queue.Add(name)
	}
}

// enqueueDeleting enqueues the machine of node if it is being deleted (a
// drain waits for its pods).
func (c *Controller) enqueueDeleting(node string) {
	if m, ok := c.machines.Get(node); ok && m.DeletionTimestamp != nil {
		c.runner.Queue.Add(node)
	}
}

// Run reads the cluster id (unless configured), then reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if c.cfg.Cluster == "" {
		for wait := 100 * time.Millisecond; c.cfg.Cluster == ""; wait = min(2*wait, 5*time.Second) {
			info, err := c.d.Client.ClusterInfo(ctx)
			if err == nil && info.ClusterID != "" {
				c.cfg.Cluster = info.ClusterID
				break
			}
			c.log.Warn("reading the cluster id failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
	go c.pollClouds(ctx, c.cfg.CloudPollInterval)
	c.runner.Run(ctx)
}

// reconcile converges one machine.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	m, ok := c.machines.Get(key)
	if !ok {
		c.forget(key, "")
		return nil
	}
	pool := c.poolOf(m)
	if m.DeletionTimestamp != nil {
		c.sawDeleting(m)
		return c.finalize(ctx, m, pool)
	}
	if !slices.Contains(m.Finalizers, api.FinalizerMachine) {
		up := *m
		up.Finalizers = append(slices.Clone(m.Finalizers), api.FinalizerMachine)
		_, err := c.d.Client.Machines().Update(ctx, &up)
		return ignoreNotFound(err, "adding the finalizer of machine %s", m.Name)
	}
	switch m.Status.Phase {
	case "", api.MachinePending:
		return c.provision(ctx, m, pool)
	case api.MachineProvisioning, api.MachineRunning:
		// The cloud has the token now. It stays in memory until here: a
		// pass reading a cache that still shows Pending reuses it (and gets
		// the same machine from the idempotent Create) instead of revoking it.
		c.mu.Lock()
		delete(c.tokens, m.UID)
		c.mu.Unlock()
		if acted, err := c.cloudTakesIt(ctx, m); acted || err != nil {
			return err
		}
		return c.observe(ctx, m, pool)
	}
	return nil // Failed: being replaced
}

// poolOf returns the machine's pool, or, for a machine without one, a pool
// of its provider with the default settings.
func (c *Controller) poolOf(m *api.Machine) *api.NodePool {
	if p, ok := c.pools.Get(m.Spec.Pool); ok {
		return p
	}
	p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: m.Spec.Pool}, Spec: api.NodePoolSpec{Provider: m.Spec.Provider}}
	api.Default(p)
	return p
}

// forget drops what the controller holds for a machine that is gone.
func (c *Controller) forget(name, uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if uid != "" {
		delete(c.tokens, uid)
		delete(c.cloudSeen, uid)
	}
	for _, set := range c.remediating {
		delete(set, name)
	}
	c.drainer.Forget(name)
}

// sawDeleting moves a remediated machine from the in-memory count to the
// one the informer shows.
func (c *Controller) sawDeleting(m *api.Machine) {
	c.mu.Lock()
	delete(c.remediating[m.Spec.Pool], m.Name)
	c.mu.Unlock()
}

// writeStatus applies mutate to a copy of m's status and writes it when it
// changed; it returns the machine as stored.
func (c *Controller) writeStatus(ctx context.Context, m *api.Machine, mutate func(*api.MachineStatus)) (*api.Machine, error) {
	up := *m
	up.Status = m.Status
	up.Status.Conditions = slices.Clone(m.Status.Conditions)
	up.Status.Addresses = slices.Clone(m.Status.Addresses)
	mutate(&up.Status)
	if statusEqual(up.Status, m.Status) {
		return m, nil
	}
	out, err := c.d.Client.Machines().UpdateStatus(ctx, &up)
	if err != nil {
		return nil, fmt.Errorf("writing the status of machine %s: %w", m.Name, err)
	}
	return out, nil
}

// setCondition sets a condition in s (now as its transition time).
func (c *Controller) setCondition(s *api.MachineStatus, typ string, status api.ConditionStatus, reason, msg string) {
	api.SetCondition(&s.Conditions, api.Condition{Type: typ, Status: status, Reason: reason, Message: msg}, c.d.Now().UTC())
}

func ignoreNotFound(err error, format string, args ...any) error {
	if err == nil || api.IsNotFound(err) {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
