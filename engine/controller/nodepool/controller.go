package nodepool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
)

// Controller keeps each NodePool's Machines.
type Controller struct {
	d        controller.Deps
	log      *slog.Logger
	pools    *client.Informer[*api.NodePool]
	machines *client.Informer[*api.Machine]
	pods     *client.Informer[*api.Pod]
	exp      *controller.Expectations
	runner   *controller.Runner
}

// New registers the controller's informer handlers.
func New(d controller.Deps) *Controller {
	d = d.WithDefaults()
	c := &Controller{d: d, log: d.Log.With("controller", "nodepool"),
		pools: controller.InformerFor[*api.NodePool](d.Informers), machines: controller.InformerFor[*api.Machine](d.Informers),
		pods: d.Informers.Pods(), exp: controller.NewExpectations(d.Now)}
	c.runner = controller.NewRunner("nodepool", d.Config.Workers, d.Log, c.reconcile)
	c.pools.AddHandler(controller.Handler[*api.NodePool](c.runner))
	c.machines.AddHandler(client.Handler[*api.Machine]{
		OnAdd: func(m *api.Machine) {
			if pool := c.ownerPool(m); pool != "" {
				c.exp.CreationObserved(pool)
				c.runner.Queue.Add(pool)
			}
		},
		OnUpdate: func(old, m *api.Machine) {
			if pool := c.ownerPool(m); pool != "" {
				if m.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
					c.exp.DeletionObserved(pool, m.UID)
				}
				c.runner.Queue.Add(pool)
			}
		},
		OnDelete: func(m *api.Machine) {
			if pool := c.ownerPool(m); pool != "" {
				c.exp.DeletionObserved(pool, m.UID)
				c.runner.Queue.Add(pool)
			}
		},
	})
	return c
}

// ownerPool is the name of the pool controlling m, or "".
func (c *Controller) ownerPool(m *api.Machine) string {
	if ref := m.ControllerRef(); ref != nil && ref.Kind == "NodePool" {
		return ref.Name
	}
	return ""
}

// Run reconciles pools until ctx ends.
func (c *Controller) Run(ctx context.Context) { c.runner.Run(ctx) }

// reconcile converges one pool: plan its machines, create and delete,
// report status.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	pool, ok := c.pools.Get(key)
	if !ok {
		c.exp.Delete(key)
		return nil
	}
	machines := c.machinesOf(pool)
	if pool.DeletionTimestamp != nil {
		return c.deletePool(ctx, pool, machines)
	}
	if !slices.Contains(pool.Finalizers, api.FinalizerNodePool) {
		up := *pool
		up.Finalizers = append(slices.Clone(pool.Finalizers), api.FinalizerNodePool)
		_, err := c.d.Client.NodePools().Update(ctx, &up)
		if err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("adding the finalizer of node pool %s: %w", pool.Name, err)
		}
		return nil
	}
	in, err := c.input(pool, machines)
	if err != nil {
		return err
	}
	plan := Compute(in)
	var actErr error
	if c.exp.Satisfied(key) {
		actErr = c.act(ctx, pool, in, plan)
	} else {
		// The watch will report our writes; if it never does, act anyway later.
		c.runner.EnqueueAfter(key, controller.ExpectationsTimeout+time.Second)
	}
	return errors.Join(actErr, c.writeStatus(ctx, pool, ComputeStatus(in, plan), in.Hash))
}

// machinesOf lists the machines the pool controls.
func (c *Controller) machinesOf(pool *api.NodePool) []*api.Machine {
	var out []*api.Machine
	for _, m := range c.machines.ByIndex(controller.IndexOwnerUID, pool.UID) {
		if ref := m.ControllerRef(); ref != nil && ref.UID == pool.UID {
			out = append(out, m)
		}
	}
	return out
}

// input builds the planner's view of a pool.
func (c *Controller) input(pool *api.NodePool, machines []*api.Machine) (Input, error) {
	s := &pool.Spec
	size := int(s.MinSize)
	if s.Size != nil {
		size = int(*s.Size)
	}
	in := Input{Size: size, Hash: s.TemplateHash(), Zones: s.Zones, SSH: s.Provider == api.ProviderSSH}
	if s.SSH != nil {
		in.Hosts = s.SSH.Hosts
	}
	var err error
	if s.Rollout.MaxSurge != nil {
		if in.MaxSurge, err = s.Rollout.MaxSurge.ScaledValue(size, true); err != nil {
			return in, fmt.Errorf("node pool %s: spec.rollout.maxSurge: %w", pool.Name, err)
		}
	}
	if s.Rollout.MaxUnavailable != nil {
		if in.MaxUnavailable, err = s.Rollout.MaxUnavailable.ScaledValue(size, false); err != nil {
			return in, fmt.Errorf("node pool %s: spec.rollout.maxUnavailable: %w", pool.Name, err)
		}
	}
	if in.MaxSurge == 0 && in.MaxUnavailable == 0 {
		in.MaxSurge = 1 // a rollout must be able to move (validation refuses 0/0)
	}
	for _, m := range machines {
		in.Machines = append(in.Machines, c.machineState(m))
	}
	return in, nil
}

func (c *Controller) machineState(m *api.Machine) MachineState {
	zone := m.Spec.Zone
	if m.Status.Zone != "" {
		zone = m.Status.Zone // placed in another of the pool's zones (no capacity in its own)
	}
	st := MachineState{Name: m.Name, Zone: zone, Host: m.Spec.Host, Hash: m.Labels[api.LabelTemplateHash],
		Running: m.Status.Phase == api.MachineRunning, Deleting: m.DeletionTimestamp != nil,
		Failed: m.Status.Phase == api.MachineFailed, Message: m.Status.Message, Created: m.CreationTimestamp,
		Marked: m.Annotations[api.AnnotationDeleteMachine] != ""}
	if cond := api.FindCondition(m.Status.Conditions, api.MachineNodeReady); st.Running && cond != nil {
		st.Ready = cond.Status == api.ConditionTrue
	}
	if cond := api.FindCondition(m.Status.Conditions, api.MachineProvisioned); cond != nil &&
		cond.Status == api.ConditionFalse && (cond.Reason == api.ReasonCloudError || refusedForGood(cond.Reason)) {
		st.Failed, st.Message, st.Reason = true, cond.Message, cond.Reason
	}
	for _, p := range c.pods.ByIndex(controller.IndexNodeName, m.Name) {
		if !api.IsPodTerminal(p) && p.DeletionTimestamp == nil {
			st.Pods++
		}
	}
	return st
}

// act creates and deletes what the plan says.
func (c *Controller) act(ctx context.Context, pool *api.NodePool, in Input, plan Plan) error {
	if len(plan.Create) == 0 && len(plan.Delete) == 0 {
		return nil
	}
	reason := api.ReasonScalingUp
	if slices.ContainsFunc(in.Machines, func(m MachineState) bool { return !m.Deleting && m.Hash != in.Hash }) {
		reason = api.ReasonRollingOut
	}
	var uids []string
	for _, name := range plan.Delete {
		if m, ok := c.machines.Get(name); ok {
			uids = append(uids, m.UID)
		}
	}
	c.exp.Expect(pool.Name, len(plan.Create), uids)
	var errs []error
	for _, nm := range plan.Create {
		m, err := c.d.Client.Machines().Create(ctx, newMachine(pool, in.Hash, nm))
		if err != nil {
			c.exp.CreationObserved(pool.Name)
			errs = append(errs, fmt.Errorf("creating a machine of node pool %s: %w", pool.Name, err))
			continue
		}
		c.log.Info("machine created", "pool", pool.Name, "machine", m.Name, "zone", nm.Zone, "host", nm.Host)
		c.d.Recorder.Eventf(pool, api.EventNormal, reason, "created machine %s%s", m.Name, where(nm))
	}
	if reason == api.ReasonScalingUp && len(plan.Delete) > 0 {
		reason = api.ReasonScalingDown
	}
	for i, name := range plan.Delete {
		if err := c.d.Client.Machines().Delete(ctx, name); err != nil {
			if i < len(uids) {
				c.exp.DeletionObserved(pool.Name, uids[i])
			}
			if !api.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting machine %s of node pool %s: %w", name, pool.Name, err))
			}
			continue
		}
		c.log.Info("machine deleted", "pool", pool.Name, "machine", name, "reason", reason)
		c.d.Recorder.Eventf(pool, api.EventNormal, reason, "deleting machine %s (drained first)", name)
	}
	return errors.Join(errs...)
}

func where(nm NewMachine) string {
	s := ""
	if nm.Zone != "" {
		s += " in zone " + nm.Zone
	}
	if nm.Host != "" {
		s += " on host " + nm.Host
	}
	return s
}

// newMachine stamps a machine from the pool's template.
func newMachine(pool *api.NodePool, hash string, nm NewMachine) *api.Machine {
	s := &pool.Spec
	return &api.Machine{
		ObjectMeta: api.ObjectMeta{
			GenerateName:    pool.Name + "-",
			Labels:          map[string]string{api.LabelNodePool: pool.Name, api.LabelTemplateHash: hash},
			OwnerReferences: []api.OwnerReference{controller.NewControllerRef(pool)},
			Finalizers:      []string{api.FinalizerMachine},
		},
		Spec: api.MachineSpec{Pool: pool.Name, Provider: s.Provider, MachineType: s.MachineType, Zone: nm.Zone,
			Host: nm.Host, Labels: s.Labels, Taints: s.Taints, Spot: s.Spot},
	}
}

// deletePool deletes a deleted pool's machines and, once they are gone,
// its finalizer.
func (c *Controller) deletePool(ctx context.Context, pool *api.NodePool, machines []*api.Machine) error {
	if !slices.Contains(pool.Finalizers, api.FinalizerNodePool) {
		return nil
	}
	for _, m := range machines {
		if m.DeletionTimestamp == nil {
			if err := c.d.Client.Machines().Delete(ctx, m.Name); err != nil && !api.IsNotFound(err) {
				return fmt.Errorf("deleting machine %s of deleted node pool %s: %w", m.Name, pool.Name, err)
			}
		}
	}
	if len(machines) > 0 {
		cond := api.Condition{Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonPoolDeleting,
			Message: fmt.Sprintf("deleting %d machine(s), each drained first", len(machines))}
		return c.writeStatus(ctx, pool, Status{Machines: len(machines), Condition: cond}, pool.Status.TemplateHash)
	}
	up := *pool
	up.Finalizers = slices.DeleteFunc(slices.Clone(pool.Finalizers), func(f string) bool { return f == api.FinalizerNodePool })
	if _, err := c.d.Client.NodePools().Update(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer of node pool %s: %w", pool.Name, err)
	}
	return nil
}

// writeStatus writes the pool's status when it changed, with an event when
// the Ready condition turns to a failure.
func (c *Controller) writeStatus(ctx context.Context, pool *api.NodePool, s Status, hash string) error {
	up := *pool
	up.Status = api.NodePoolStatus{ObservedGeneration: pool.Generation, Machines: int32(s.Machines), ReadyMachines: int32(s.Ready),
		UpdatedMachines: int32(s.Updated), TemplateHash: hash, Conditions: slices.Clone(pool.Status.Conditions)}
	api.SetCondition(&up.Status.Conditions, s.Condition, c.d.Now().UTC())
	if reflect.DeepEqual(up.Status, pool.Status) {
		return nil
	}
	if _, err := c.d.Client.NodePools().UpdateStatus(ctx, &up); err != nil {
		if api.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("writing the status of node pool %s: %w", pool.Name, err)
	}
	old := api.FindCondition(pool.Status.Conditions, api.NodePoolReady)
	if r := s.Condition.Reason; (r == api.ReasonMachineFailed || r == api.ReasonNotEnoughHosts || refusedForGood(r)) &&
		(old == nil || old.Reason != r || old.Message != s.Condition.Message) {
		c.d.Recorder.Eventf(pool, api.EventWarning, r, "%s", s.Condition.Message)
	}
	return nil
}
