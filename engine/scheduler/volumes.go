package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Persistent volumes keep their data on one node, so a pod that uses one
// may run only there. The scheduler learns where each Volume lives from
// an informer (VolumeBook), filters every other node out (volumeFilter),
// and, when it first places a pod whose volume is on no node yet, puts the
// volume on the chosen node before binding the pod (bindVolumes): it
// creates the Volume, or writes its status.nodeName, as Kubernetes'
// VolumeBinding plugin binds claims in PreBind. Until the informer shows
// that write, the placement is assumed in the book, so the next pod of the
// same volume (a second replica) goes to the same node.

// volumeWhere is where a pod's volume stands.
type volumeWhere struct {
	node     string // "" when on no node yet (or no Volume exists)
	deleting bool
}

// VolumeBook is the scheduler's view of the Volumes: where each lives, and
// the placements it assumed for volumes of pods it placed but whose Volume
// write the informer has not shown yet. It is safe for concurrent use.
type VolumeBook struct {
	mu      sync.RWMutex
	vols    map[string]*api.PersistentVolume // namespace/name
	assumed map[string]string                // namespace/name -> node
}

// NewVolumeBook returns a book holding vols.
func NewVolumeBook(vols ...*api.PersistentVolume) *VolumeBook {
	b := &VolumeBook{vols: map[string]*api.PersistentVolume{}, assumed: map[string]string{}}
	for _, v := range vols {
		b.Set(v)
	}
	return b
}

// Set records a Volume as the informer reports it; a volume on a node
// needs no assumption any more.
func (b *VolumeBook) Set(v *api.PersistentVolume) {
	key := v.Key()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.vols[key] = v
	if v.Node() != "" {
		delete(b.assumed, key)
	}
}

// Delete forgets a deleted Volume.
func (b *VolumeBook) Delete(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.vols, key)
	delete(b.assumed, key)
}

// where reports where a volume lives, assumptions included.
func (b *VolumeBook) where(key string) volumeWhere {
	if b == nil {
		return volumeWhere{}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if v := b.vols[key]; v != nil && (v.Node() != "" || v.DeletionTimestamp != nil) {
		return volumeWhere{node: v.Node(), deleting: v.DeletionTimestamp != nil}
	}
	return volumeWhere{node: b.assumed[key]}
}

// get returns the informer's Volume (nil when none).
func (b *VolumeBook) get(key string) *api.PersistentVolume {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.vols[key]
}

// assume records that pi's volumes on no node yet go to node, and returns
// their keys (to forget if the placement fails).
func (b *VolumeBook) assume(pi *PodInfo, node string) []string {
	if b == nil || len(pi.Volumes) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for _, name := range pi.Volumes {
		key := api.Key(pi.Namespace, name)
		if v := b.vols[key]; v != nil && v.Node() != "" {
			continue
		}
		if _, ok := b.assumed[key]; !ok {
			b.assumed[key] = node
			keys = append(keys, key)
		}
	}
	return keys
}

// forget drops assumptions made for a placement that failed.
func (b *VolumeBook) forget(keys []string) {
	if len(keys) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.assumed, k)
	}
}

// UseVolumes tells the snapshot where Volumes live (the API server's dry
// runs build snapshots from lists).
func (s *Snapshot) UseVolumes(vols []*api.PersistentVolume) { s.volumes = NewVolumeBook(vols...) }

// volumeWhere reports where a volume lives in this view.
func (s *Snapshot) volumeWhere(key string) volumeWhere {
	if node, ok := s.previewVolumes[key]; ok {
		return volumeWhere{node: node}
	}
	return s.volumes.where(key)
}

// preFilterVolumes finds the node the pod's volumes tie it to. Every
// volume on a node must be on the same one; a volume being deleted rules
// every node out, as a claim being deleted does in Kubernetes.
func (s *CycleState) preFilterVolumes(snap *Snapshot, pi *PodInfo) {
	s.volNode, s.volBlocked, s.volDetail = "", false, ""
	var first string
	for _, name := range pi.Volumes {
		w := snap.volumeWhere(api.Key(pi.Namespace, name))
		switch {
		case w.deleting:
			s.volBlocked = true
			s.volDetail = fmt.Sprintf("volume %q is being deleted", name)
			return
		case w.node == "":
		case s.volNode == "":
			s.volNode, first = w.node, name
		case w.node != s.volNode:
			s.volBlocked = true
			s.volDetail = fmt.Sprintf("volumes %q and %q live on different nodes (%s, %s)", first, name, s.volNode, w.node)
			return
		}
	}
	switch {
	case s.volNode == "":
	case snap.Get(s.volNode) == nil:
		s.volDetail = fmt.Sprintf("volume %q lives on node %q, which is gone", first, s.volNode)
	default:
		s.volDetail = fmt.Sprintf("volume %q is on node %q", first, s.volNode)
	}
}

// volumeFilter keeps a pod on the node that holds its volumes' data.
type volumeFilter struct{}

var _ Filter = volumeFilter{}

func (volumeFilter) Filter(s *CycleState, n *NodeInfo) Status {
	if s.volBlocked || n.Name != s.volNode {
		return Reject(ReasonVolume)
	}
	return 0
}

// errVolumeMoved: the informer now places a volume elsewhere than the
// cycle that placed the pod saw; the pod is scheduled again.
var errVolumeMoved = errors.New("scheduler: volume placed elsewhere meanwhile")

// bindVolumes puts the pod's volumes that are on no node yet on node:
// a Volume that does not exist is created there (pinned: its data will be
// made there), one declared without a node gets status.nodeName, a
// compare-and-swap on the version the informer saw. It runs before the
// pod's binding, so a pod never runs on a node its volume is not on.
func (s *Scheduler) bindVolumes(ctx context.Context, pi *PodInfo, node string) error {
	if s.cfg.Client == nil || len(pi.Volumes) == 0 {
		return nil
	}
	vols := s.cfg.Client.Volumes(pi.Namespace)
	for _, name := range pi.Volumes {
		if err := bindVolume(ctx, vols, s.volumes.get(api.Key(pi.Namespace, name)), pi.Pod.Name, name, node); err != nil {
			return fmt.Errorf("placing volume %s/%s on node %s: %w", pi.Namespace, name, node, err)
		}
	}
	return nil
}

func bindVolume(ctx context.Context, vols client.Resource[*api.PersistentVolume], v *api.PersistentVolume, pod, name, node string) error {
	switch {
	case v == nil:
		_, err := vols.Create(ctx, &api.PersistentVolume{
			ObjectMeta: api.ObjectMeta{Name: name, Annotations: map[string]string{AnnotationCreatedFor: pod}},
			Spec:       api.PersistentVolumeSpec{NodeName: node},
		})
		return err
	case v.DeletionTimestamp != nil:
		return errors.New("the volume is being deleted")
	case v.Node() == node:
		return nil
	case v.Node() != "":
		return fmt.Errorf("%w (node %s)", errVolumeMoved, v.Node())
	}
	up := *v
	up.Status.NodeName = node
	_, err := vols.UpdateStatus(ctx, &up)
	return err
}

// AnnotationCreatedFor marks a Volume the scheduler created on first use
// with the name of the pod it was created for.
const AnnotationCreatedFor = "volume.maestro.dev/created-for"

func (s *Scheduler) volumeHandler() client.Handler[*api.PersistentVolume] {
	set := func(v *api.PersistentVolume) {
		s.volumes.Set(v)
		s.queue.MoveAllToActive(VolumeReasons)
	}
	return client.Handler[*api.PersistentVolume]{
		OnAdd:    set,
		OnUpdate: func(_, v *api.PersistentVolume) { set(v) },
		OnDelete: func(v *api.PersistentVolume) {
			s.volumes.Delete(v.Key())
			s.queue.MoveAllToActive(VolumeReasons)
		},
	}
}
