package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Index names of the volume controller.
const (
	// IndexPodVolume files pods by the Volumes they use ("namespace/name").
	IndexPodVolume = "persistentVolume"
	// IndexVolumeNode files Volumes by the node their data lives on.
	IndexVolumeNode = "volumeNode"
)

// VolumeController keeps each Volume's status true (phase, the pods using
// it) and settles deleted Volumes, as Kubernetes' pv-protection controller
// does:
//
//   - a deleted Volume keeps its protection finalizer while a pod bound to
//     a node uses it, and loses it once none does;
//   - its data finalizer is the agent's to remove after removing the data
//     (reclaim policy Delete); the controller removes it when there is
//     nothing for an agent to do: Retain, a volume never placed, or a node
//     that is gone.
//
// It also places Volumes for pods that were bound without the scheduler
// (created with spec.nodeName), creating the Volume a bound pod names when
// none exists (pods from before Volumes existed keep their data).
type VolumeController struct {
	d       Deps
	volumes *client.Informer[*api.PersistentVolume]
	pods    *client.Informer[*api.Pod]
	nodes   *client.Informer[*api.Node]
	runner  *Runner
}

// NewVolumeController registers the controller's informer handlers.
func NewVolumeController(d Deps) *VolumeController {
	d = d.withDefaults()
	c := &VolumeController{d: d, volumes: d.Informers.Volumes(), pods: d.Informers.Pods(), nodes: d.Informers.Nodes()}
	c.runner = NewRunner("volume", d.Config.Workers, d.Log, c.reconcile)
	c.pods.AddIndex(IndexPodVolume, func(p *api.Pod) []string {
		names := api.PersistentVolumeNames(&p.Spec)
		for i, n := range names {
			names[i] = api.Key(p.Namespace, n)
		}
		return names
	})
	c.volumes.AddIndex(IndexVolumeNode, func(v *api.PersistentVolume) []string { return []string{v.Node()} })
	c.volumes.AddHandler(Handler[*api.PersistentVolume](c.runner))
	enqueuePod := func(p *api.Pod) {
		for _, n := range api.PersistentVolumeNames(&p.Spec) {
			c.runner.Queue.Add(api.Key(p.Namespace, n))
		}
	}
	c.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    enqueuePod,
		OnUpdate: func(_, p *api.Pod) { enqueuePod(p) },
		OnDelete: enqueuePod,
	})
	enqueueNode := func(n *api.Node) {
		for _, v := range c.volumes.ByIndex(IndexVolumeNode, n.Name) {
			c.runner.Enqueue(v)
		}
	}
	c.nodes.AddHandler(client.Handler[*api.Node]{OnAdd: enqueueNode, OnDelete: enqueueNode})
	return c
}

// Run reconciles until ctx ends.
func (c *VolumeController) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	c.runner.Run(ctx)
}

func (c *VolumeController) reconcile(ctx context.Context, key string) error {
	users := c.usersOf(key)
	v, ok := c.volumes.Get(key)
	switch {
	case !ok:
		return c.adopt(ctx, key, users)
	case v.Node() == "" && len(users) > 0 && v.DeletionTimestamp == nil:
		return c.place(ctx, v, users[0].Spec.NodeName)
	}
	_, nodeExists := c.nodes.Get(v.Node())
	want := volumeStatus(v, users, nodeExists)
	if !volumeStatusEqual(v.Status, want) {
		up := *v
		up.Status = want
		var err error
		if v, err = c.d.Client.Volumes(v.Namespace).UpdateStatus(ctx, &up); err != nil {
			return ignoreNotFound(fmt.Errorf("updating the status of volume %s: %w", key, err))
		}
	}
	if v.DeletionTimestamp == nil {
		return nil
	}
	fin := releasableFinalizers(v, len(users), nodeExists)
	if len(fin) == len(v.Finalizers) {
		return nil
	}
	up := *v
	up.Finalizers = fin
	if _, err := c.d.Client.Volumes(v.Namespace).Update(ctx, &up); err != nil {
		return ignoreNotFound(fmt.Errorf("finalizing volume %s: %w", key, err))
	}
	c.d.Log.Info("volume finalizers released", "volume", key, "left", fin)
	return nil
}

// usersOf lists the pods bound to a node that use the volume and have not
// finished, oldest first. Pods waiting for a node do not count: they hold
// no data, and one that can never be placed must not keep a deleted
// volume forever.
func (c *VolumeController) usersOf(key string) []*api.Pod {
	var users []*api.Pod
	for _, p := range c.pods.ByIndex(IndexPodVolume, key) {
		if p.Spec.NodeName != "" && !api.IsPodTerminal(p) {
			users = append(users, p)
		}
	}
	slices.SortFunc(users, func(a, b *api.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return users
}

// adopt creates the Volume a bound pod uses when none exists, on that
// pod's node (where the pod writes its data).
func (c *VolumeController) adopt(ctx context.Context, key string, users []*api.Pod) error {
	if len(users) == 0 {
		return nil
	}
	ns, name := SplitKey(key)
	node := users[0].Spec.NodeName
	_, err := c.d.Client.Volumes(ns).Create(ctx, &api.PersistentVolume{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec:       api.PersistentVolumeSpec{NodeName: node},
	})
	if api.IsAlreadyExists(err) {
		return nil // the scheduler's, not yet in the cache
	}
	if err != nil {
		return fmt.Errorf("creating volume %s used by pod %s on node %s: %w", key, users[0].Name, node, err)
	}
	c.d.Log.Info("volume created for a pod bound without the scheduler", "volume", key, "pod", users[0].Key(), "node", node)
	return nil
}

// place records a declared volume as living on the node its first pod
// was bound to without the scheduler.
func (c *VolumeController) place(ctx context.Context, v *api.PersistentVolume, node string) error {
	up := *v
	up.Status.NodeName = node
	if _, err := c.d.Client.Volumes(v.Namespace).UpdateStatus(ctx, &up); err != nil {
		return ignoreNotFound(fmt.Errorf("placing volume %s on node %s: %w", v.Key(), node, err))
	}
	return nil
}

// volumeStatus is the status a volume should show, given the pods using
// it and whether its node exists.
func volumeStatus(v *api.PersistentVolume, users []*api.Pod, nodeExists bool) api.PersistentVolumeStatus {
	st := api.PersistentVolumeStatus{NodeName: v.Status.NodeName}
	for _, p := range users {
		st.UsedBy = append(st.UsedBy, p.Name)
	}
	slices.Sort(st.UsedBy)
	switch {
	case v.Node() == "":
		st.Phase = api.VolumePending
	case !nodeExists:
		st.Phase = api.VolumeLost
	case len(users) > 0:
		st.Phase = api.VolumeBound
	default:
		st.Phase = api.VolumeAvailable
	}
	return st
}

func volumeStatusEqual(a, b api.PersistentVolumeStatus) bool {
	return a.Phase == b.Phase && a.NodeName == b.NodeName && slices.Equal(a.UsedBy, b.UsedBy)
}

// releasableFinalizers returns the finalizers a deleted volume keeps: the
// protection one while pods use it; the data one while an agent has data
// to remove (reclaim policy Delete, on a node that exists).
func releasableFinalizers(v *api.PersistentVolume, users int, nodeExists bool) []string {
	protected := users > 0
	agentWork := v.Spec.ReclaimPolicy == api.ReclaimDelete && v.Node() != "" && nodeExists
	return slices.DeleteFunc(slices.Clone(v.Finalizers), func(f string) bool {
		switch f {
		case api.FinalizerVolumeProtection:
			return !protected
		case api.FinalizerVolumeData:
			// The data goes only once no pod can write it any more.
			return !protected && !agentWork
		}
		return false
	})
}

func ignoreNotFound(err error) error {
	if api.IsNotFound(err) {
		return nil
	}
	return err
}
