// Package noderestriction keeps a node from promoting itself, like
// Kubernetes' NodeRestriction admission plugin. A node registers its Node
// and writes its status and heartbeat, and keeps its own ordinary labels
// and taints; it may not set or change:
//
//   - labels under api.LabelNodeRestrictionPrefix;
//   - the labels it was admitted with (its join token's: zone, pool,
//     instance type), which the server sets when the Node is created, nor
//     the well-known zone, region, pool and instance type labels once
//     registered: placement decisions rest on them;
//   - the taints controllers and admins own (not ready, unreachable,
//     unschedulable) and spec.unschedulable;
//   - spec.podCIDR, which the control plane assigns (a node choosing its
//     own could take another node's pod addresses);
//
// nor delete its Node (that would drop them all). The check compares the
// stored and the new object in the registry's admission step, so no way of
// writing (update, status subresource, create after delete) bypasses it.
// Admins and controllers are not restricted.
package noderestriction

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// AdmissionLabels gives the labels and taints a node was admitted with
// (nil: none).
type AdmissionLabels interface {
	Labels(ctx context.Context, node string) (map[string]string, error)
	Taints(ctx context.Context, node string) ([]api.Taint, error)
}

// Admitter is the registry admitter.
type Admitter struct {
	admissions AdmissionLabels
}

var _ registry.Admitter = (*Admitter)(nil)

// New builds the admitter.
func New(admissions AdmissionLabels) *Admitter { return &Admitter{admissions: admissions} }

// placementLabels are the well-known labels a node may set only when it
// registers (when its admission does not set them).
var placementLabels = []string{api.LabelZone, api.LabelRegion, api.LabelNodePool, api.LabelInstanceType}

// controllerTaints are the taint keys controllers and admins own.
var controllerTaints = []string{api.TaintNodeNotReady, api.TaintNodeUnreachable, api.TaintNodeUnschedulable}

// Admit restricts writes of Node objects by nodes.
func (a *Admitter) Admit(ctx context.Context, attrs registry.Attributes) error {
	node := attrs.Requester.Node
	if node == "" || attrs.Kind.Kind != "Node" {
		return nil
	}
	switch attrs.Op {
	case registry.OpCreate:
		return a.admitCreate(ctx, node, attrs.Object.(*api.Node))
	case registry.OpUpdate:
		return a.admitUpdate(ctx, node, attrs.Old.(*api.Node), attrs.Object.(*api.Node))
	case registry.OpDelete:
		return api.NewForbidden("node %q may not delete its Node %s: that would drop the taints and cordon controllers and admins set; "+
			"an admin deletes nodes", node, attrs.Old.GetObjectMeta().Name)
	}
	return nil
}

// admitCreate checks a registration and applies the admission labels.
func (a *Admitter) admitCreate(ctx context.Context, node string, n *api.Node) error {
	admitted, err := a.admissions.Labels(ctx, node)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(n.Labels)) {
		v := n.Labels[k]
		want, fixed := admitted[k]
		switch {
		case fixed && v != want:
			return deny(node, labelPath(k), fmt.Sprintf("it was admitted with %q (its join token's label)", want))
		case !fixed && strings.HasPrefix(k, api.LabelNodeRestrictionPrefix):
			return deny(node, labelPath(k), "labels under "+api.LabelNodeRestrictionPrefix+" are set by admins and join tokens only")
		}
	}
	if len(admitted) > 0 && n.Labels == nil {
		n.Labels = map[string]string{}
	}
	maps.Copy(n.Labels, admitted)
	for i, t := range n.Spec.Taints {
		if slices.Contains(controllerTaints, t.Key) {
			return deny(node, api.NewPath("spec").Child("taints").Index(i).String(), "the taint "+t.Key+" is the node controllers' and admins'")
		}
	}
	if n.Spec.Unschedulable {
		return deny(node, "spec.unschedulable", "cordoning is for admins")
	}
	if n.Spec.PodCIDR != "" {
		return deny(node, "spec.podCIDR", podCIDRWhy)
	}
	// The join token's taints (its pool's) are on the Node from its first
	// write, so no pod is placed there before them.
	taints, err := a.admissions.Taints(ctx, node)
	if err != nil {
		return err
	}
	for _, t := range taints {
		if !slices.ContainsFunc(n.Spec.Taints, func(x api.Taint) bool { return taintEqual(x, t) }) {
			n.Spec.Taints = append(n.Spec.Taints, t)
		}
	}
	return nil
}

const podCIDRWhy = "the control plane assigns pod CIDRs (maestro server --pod-cidr)"

// admitUpdate refuses changes to what the node does not own.
func (a *Admitter) admitUpdate(ctx context.Context, node string, old, n *api.Node) error {
	if old.Spec.Unschedulable != n.Spec.Unschedulable {
		return deny(node, "spec.unschedulable", "cordoning and uncordoning are for admins")
	}
	if old.Spec.PodCIDR != n.Spec.PodCIDR {
		return deny(node, "spec.podCIDR", podCIDRWhy)
	}
	if key, changed := taintChange(old.Spec.Taints, n.Spec.Taints); changed {
		return deny(node, "spec.taints", "the taint "+key+" is the node controllers' and admins'")
	}
	if !slices.EqualFunc(old.Spec.Taints, n.Spec.Taints, taintEqual) {
		taints, err := a.admissions.Taints(ctx, node)
		if err != nil {
			return err
		}
		for _, t := range taints {
			if !slices.ContainsFunc(n.Spec.Taints, func(x api.Taint) bool { return taintEqual(x, t) }) {
				return deny(node, "spec.taints", "the taint "+t.Key+" was set when the node was admitted (its join token's, its pool's)")
			}
		}
	}
	if maps.Equal(old.Labels, n.Labels) {
		return nil // the common case (heartbeats): no lookup
	}
	admitted, err := a.admissions.Labels(ctx, node)
	if err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(old.Labels))
	keys = append(keys, slices.Sorted(maps.Keys(n.Labels))...)
	for _, k := range keys {
		ov, had := old.Labels[k]
		nv, has := n.Labels[k]
		if had == has && ov == nv {
			continue
		}
		switch _, fixed := admitted[k]; {
		case fixed:
			return deny(node, labelPath(k), "it was set when the node was admitted (its join token's label)")
		case strings.HasPrefix(k, api.LabelNodeRestrictionPrefix):
			return deny(node, labelPath(k), "labels under "+api.LabelNodeRestrictionPrefix+" are set by admins and join tokens only")
		case slices.Contains(placementLabels, k):
			return deny(node, labelPath(k), "placement labels are set when a node registers; after that only admins change them")
		}
	}
	return nil
}

// taintChange reports whether the controller-owned taints differ, and the
// key of one that does.
func taintChange(old, next []api.Taint) (string, bool) {
	owned := func(ts []api.Taint, key string) []api.Taint {
		return slices.DeleteFunc(slices.Clone(ts), func(t api.Taint) bool { return t.Key != key })
	}
	for _, key := range controllerTaints {
		if !slices.EqualFunc(owned(old, key), owned(next, key), taintEqual) {
			return key, true
		}
	}
	return "", false
}

func taintEqual(a, b api.Taint) bool {
	if a.Key != b.Key || a.Value != b.Value || a.Effect != b.Effect || (a.TimeAdded == nil) != (b.TimeAdded == nil) {
		return false
	}
	return a.TimeAdded == nil || a.TimeAdded.Equal(*b.TimeAdded)
}

func labelPath(key string) string { return fmt.Sprintf("metadata.labels[%q]", key) }

func deny(node, field, why string) error {
	return api.NewForbidden("node %q may not set or change %s of its Node: %s", node, field, why)
}
