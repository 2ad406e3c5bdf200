package clusterautoscaler

import (
	"fmt"
	"maps"

	"github.com/maestro-dev/maestro/engine/api"
)

// TemplateNode is the node a new machine of pool would register: the
// pool's labels with node.maestro.dev/pool, its zone (the first of the
// pool's) and instance type, the pool's taints, Ready. Its capacity is
// that of like, an existing node of the pool, when there is one (what the
// machines really have, for local and ssh pools too); else the pool's
// api.AnnotationTemplateCapacity; else api.DefaultTemplateCapacity.
func TemplateNode(pool *api.NodePool, name string, like *api.Node) (*api.Node, error) {
	s := &pool.Spec
	ls := maps.Clone(s.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	ls[api.LabelNodePool] = pool.Name
	if len(s.Zones) > 0 {
		ls[api.LabelZone] = s.Zones[0]
	}
	if s.MachineType != "" {
		ls[api.LabelInstanceType] = s.MachineType
	}
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: name, Labels: ls}}
	n.Spec.Taints = s.Taints
	n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}}
	switch {
	case like != nil:
		n.Status.Capacity, n.Status.Allocatable = like.Status.Capacity, like.Status.Allocatable
		if like.Labels[api.LabelZone] != "" && len(s.Zones) == 0 {
			ls[api.LabelZone] = like.Labels[api.LabelZone]
		}
	case pool.Annotations[api.AnnotationTemplateCapacity] != "":
		c, err := api.ParseTemplateCapacity(pool.Annotations[api.AnnotationTemplateCapacity])
		if err != nil {
			return nil, fmt.Errorf("node pool %s: annotation %s: %w", pool.Name, api.AnnotationTemplateCapacity, err)
		}
		n.Status.Capacity = c
	default:
		n.Status.Capacity = api.DefaultTemplateCapacity
	}
	return n, nil
}
