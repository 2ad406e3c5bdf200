package clusterautoscaler

import (
	"fmt"
	"maps"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// DefaultTemplateCapacity is the capacity assumed for a node of a pool
// that has no node to copy it from and no api.AnnotationTemplateCapacity:
// 2 cpus, 8 GiB, 110 pods (a small cloud machine). Clouds do not report
// their machine types' sizes to maestro, so a pool of bigger machines
// that scales from 0 should say its capacity in the annotation.
var DefaultTemplateCapacity = api.ResourceList{
	api.ResourceCPU:    resource.MustParse("2"),
	api.ResourceMemory: resource.MustParse("8Gi"),
	api.ResourcePods:   resource.MustParse("110"),
}

// TemplateNode is the node a new machine of pool would register: the
// pool's labels with node.maestro.dev/pool, its zone (the first of the
// pool's) and instance type, the pool's taints, Ready. Its capacity is
// that of like, an existing node of the pool, when there is one (what the
// machines really have, for local and ssh pools too); else the pool's
// api.AnnotationTemplateCapacity; else DefaultTemplateCapacity.
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
		c, err := ParseCapacity(pool.Annotations[api.AnnotationTemplateCapacity])
		if err != nil {
			return nil, fmt.Errorf("node pool %s: annotation %s: %w", pool.Name, api.AnnotationTemplateCapacity, err)
		}
		n.Status.Capacity = c
	default:
		n.Status.Capacity = DefaultTemplateCapacity
	}
	return n, nil
}

// ParseCapacity parses "cpu=4,memory=16Gi,pods=110"; a resource left out
// takes DefaultTemplateCapacity's value.
func ParseCapacity(s string) (api.ResourceList, error) {
	out := maps.Clone(DefaultTemplateCapacity)
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		name := api.ResourceName(k)
		if !ok || (name != api.ResourceCPU && name != api.ResourceMemory && name != api.ResourcePods) {
			return nil, fmt.Errorf("%q: want cpu=, memory= or pods= (comma separated)", part)
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[name] = q
	}
	return out, nil
}
