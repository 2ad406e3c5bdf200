package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/scheduler"
)

var nodeKind = api.MustKind("Node")

// maxPreviewPods bounds the work one dry run may ask of the server.
const maxPreviewPods = 10000

// writePlacementPreview answers a dry-run write of a workload with where
// its pods would go: the scheduler's pipeline on a snapshot of the cluster,
// with the workload's current pods taken out (they would be replaced).
// Problems become Warning headers a client can show next to its plan.
func (s *Server) writePlacementPreview(ctx context.Context, w http.ResponseWriter, obj api.Object) {
	pods, selector, n := previewPods(obj)
	if n == 0 {
		return
	}
	prev, err := s.previewPlacement(ctx, obj.GetObjectMeta().Namespace, pods, selector)
	if err != nil {
		s.log.Warn("placement preview failed", "err", err)
		return
	}
	b, _ := json.Marshal(prev)
	w.Header().Set(api.HeaderPlacementPreview, string(b))
	if prev.Placed < prev.Pods {
		w.Header().Add("Warning", "299 - "+strconv.Quote(fmt.Sprintf("%d of %d pods of %s %s could not be placed: %s",
			prev.Pods-prev.Placed, prev.Pods, api.KindOf(obj).Kind, obj.GetObjectMeta().Name, prev.Reason)))
	}
}

// previewPods turns a workload into the pods it would run.
func previewPods(obj api.Object) (pods []*api.Pod, owned labels.Selector, n int) {
	meta := obj.GetObjectMeta()
	var tmpl *api.PodTemplateSpec
	var sel *api.LabelSelector
	switch o := obj.(type) {
	case *api.Pod:
		if o.Spec.NodeName != "" {
			return nil, nil, 0
		}
		return []*api.Pod{o}, nil, 1
	case *api.ReplicaSet:
		tmpl, sel, n = &o.Spec.Template, o.Spec.Selector, int(api.Deref(o.Spec.Replicas, 1))
	case *api.Deployment:
		tmpl, sel, n = &o.Spec.Template, o.Spec.Selector, int(api.Deref(o.Spec.Replicas, 1))
	default:
		return nil, nil, 0
	}
	n = min(n, maxPreviewPods)
	owned, err := api.AsSelector(sel)
	if err != nil {
		return nil, nil, 0
	}
	// The pods share a controller reference, so the scheduler spreads them
	// as it would the real replicas.
	ref := api.OwnerReference{Kind: api.KindOf(obj).Kind, Name: meta.Name, UID: "preview-" + meta.Namespace + "/" + meta.Name, Controller: api.Ptr(true)}
	for i := range n {
		p := &api.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
		p.Name, p.Namespace = meta.Name+"-preview-"+strconv.Itoa(i), meta.Namespace
		p.OwnerReferences = []api.OwnerReference{ref}
		pods = append(pods, p)
	}
	return pods, owned, n
}

func (s *Server) previewPlacement(ctx context.Context, namespace string, pods []*api.Pod, owned labels.Selector) (*api.PlacementPreview, error) {
	nodeObjs, _, err := s.reg.List(ctx, nodeKind, "", registry.Selectors{})
	if err != nil {
		return nil, err
	}
	podObjs, _, err := s.reg.List(ctx, podKind, "", registry.Selectors{})
	if err != nil {
		return nil, err
	}
	nodes := make([]*api.Node, len(nodeObjs))
	for i, o := range nodeObjs {
		nodes[i] = o.(*api.Node)
	}
	existing := make([]*api.Pod, 0, len(podObjs))
	for _, o := range podObjs {
		p := o.(*api.Pod)
		if owned != nil && p.Namespace == namespace && owned.Matches(labels.Set(p.Labels)) {
			continue // replaced by the previewed pods
		}
		existing = append(existing, p)
	}
	volObjs, _, err := s.reg.List(ctx, volumeKind, namespace, registry.Selectors{})
	if err != nil {
		return nil, err
	}
	vols := make([]*api.PersistentVolume, len(volObjs))
	for i, o := range volObjs {
		vols[i] = o.(*api.PersistentVolume)
	}
	snap := scheduler.NewSnapshotFrom(nodes, existing)
	snap.UseVolumes(vols)
	placements := scheduler.Preview(snap, pods)
	prev := &api.PlacementPreview{Pods: len(placements), Nodes: map[string]int{}}
	for _, pl := range placements {
		if pl.Node != "" {
			prev.Placed++
			prev.Nodes[pl.Node]++
		} else if prev.Reason == "" {
			prev.Reason = pl.Reason
		}
	}
	return prev, nil
}
