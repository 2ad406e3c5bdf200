package volumes

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/workqueue"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Reclaimer removes the data of the Volumes living on its node that are
// deleted with reclaim policy Delete, then releases their data finalizer
// so the API deletes them. It waits until no pod uses the volume (the
// volume controller has released the protection finalizer), so data is
// never pulled from under a running container.
type Reclaimer struct {
	node  string
	c     *client.Client
	rt    runtime.VolumeRemover // nil: the runtime keeps no volumes, so no data
	vols  *client.Informer[*api.PersistentVolume]
	queue *workqueue.Queue[string]
	log   *slog.Logger
}

// NewReclaimer watches the Volumes on node through c (with the node's
// credential) and removes their data with rt (nil for a runtime without
// volumes: the process runtime, where no data can exist).
func NewReclaimer(c *client.Client, node string, rt runtime.VolumeRemover, log *slog.Logger) *Reclaimer {
	if log == nil {
		log = slog.Default()
	}
	r := &Reclaimer{node: node, c: c, rt: rt, log: log.With("component", "volume-reclaimer"),
		queue: workqueue.New[string](workqueue.WithName("agent-volumes"))}
	r.vols = client.NewInformer(c.Volumes(""), client.ListOptions{FieldSelector: "status.nodeName=" + node}, client.WithLogger(log))
	enqueue := func(v *api.PersistentVolume) {
		if needsReclaim(v) {
			r.queue.Add(v.Key())
		}
	}
	r.vols.AddHandler(client.Handler[*api.PersistentVolume]{OnAdd: enqueue, OnUpdate: func(_, v *api.PersistentVolume) { enqueue(v) }})
	return r
}

// Run reclaims until ctx ends.
func (r *Reclaimer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.vols.Run(ctx) })
	if !r.vols.WaitForSync(ctx) {
		return
	}
	workqueue.Run(ctx, r.queue, 2, r.reclaim, func(key string, err error) {
		if ctx.Err() == nil && !api.IsConflict(err) {
			r.log.Warn("removing a volume's data failed; retrying", "volume", key, "err", err)
		}
	})
}

// needsReclaim: deleted, Delete policy, unused, data not yet removed.
func needsReclaim(v *api.PersistentVolume) bool {
	return v.DeletionTimestamp != nil && v.Spec.ReclaimPolicy == api.ReclaimDelete &&
		slices.Contains(v.Finalizers, api.FinalizerVolumeData) && !slices.Contains(v.Finalizers, api.FinalizerVolumeProtection)
}

func (r *Reclaimer) reclaim(ctx context.Context, key string) error {
	v, ok := r.vols.Get(key)
	if !ok || !needsReclaim(v) || v.Status.NodeName != r.node {
		return nil
	}
	name := PersistentVolumeName(r.node, v.Namespace, v.Name)
	if r.rt != nil {
		if err := r.rt.RemoveVolume(ctx, name); err != nil {
			return fmt.Errorf("removing the data of volume %s: %w", key, err)
		}
	}
	up := *v
	up.Finalizers = slices.DeleteFunc(slices.Clone(v.Finalizers), func(f string) bool { return f == api.FinalizerVolumeData })
	if _, err := r.c.Volumes(v.Namespace).Update(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("releasing volume %s after removing its data: %w", key, err)
	}
	r.log.Info("volume data removed", "volume", key, "runtimeVolume", name)
	return nil
}
