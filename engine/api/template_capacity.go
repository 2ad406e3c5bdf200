package api

import (
	"fmt"
	"maps"
	"strings"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

// DefaultTemplateCapacity is the capacity assumed for a node of a pool
// that has no node to copy it from and no AnnotationTemplateCapacity:
// 2 cpus, 8 GiB, 110 pods (a small cloud machine). Clouds do not report
// their machine types' sizes to maestro, so a pool of bigger machines
// that scales from 0 should say its capacity in the annotation.
var DefaultTemplateCapacity = ResourceList{
	ResourceCPU:    resource.MustParse("2"),
	ResourceMemory: resource.MustParse("8Gi"),
	ResourcePods:   resource.MustParse("110"),
}

// ParseTemplateCapacity parses AnnotationTemplateCapacity's value,
// "cpu=4,memory=16Gi,pods=110"; a resource left out takes
// DefaultTemplateCapacity's value.
func ParseTemplateCapacity(s string) (ResourceList, error) {
	out := maps.Clone(DefaultTemplateCapacity)
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		name := ResourceName(k)
		if !ok || (name != ResourceCPU && name != ResourceMemory && name != ResourcePods) {
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
