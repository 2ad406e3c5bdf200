package cli

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

func TestAllocated(t *testing.T) {
	q := resource.MustParse
	pod := func(cpu, mem string, initCPU string) *api.Pod {
		p := &api.Pod{Spec: api.PodSpec{Containers: []api.Container{{Name: "a", Resources: api.ResourceRequirements{
			Requests: api.ResourceList{api.ResourceCPU: q(cpu), api.ResourceMemory: q(mem)}}}}}}
		if initCPU != "" {
			p.Spec.InitContainers = []api.Container{{Name: "i", Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: q(initCPU)}}}}
		}
		return p
	}
	node := &api.Node{Status: api.NodeStatus{Allocatable: api.ResourceList{api.ResourceCPU: q("2"), api.ResourceMemory: q("4Gi"), api.ResourcePods: q("10")}}}
	tests := []struct {
		name string
		pods []*api.Pod
		want [][]string
	}{
		{"empty node", nil, [][]string{{"cpu", "0", "2", "0%"}, {"memory", "0", "4Gi", "0%"}, {"pods", "0", "10", "0%"}}},
		{"two pods, an init container larger than its pod's app", []*api.Pod{pod("500m", "1Gi", ""), pod("250m", "1Gi", "1")},
			[][]string{{"cpu", "1500m", "2", "75%"}, {"memory", "2Gi", "4Gi", "50%"}, {"pods", "2", "10", "20%"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := allocated(node, tc.pods, nil)
			if !slices.EqualFunc(got.rows, tc.want, slices.Equal[[]string]) {
				t.Errorf("rows %q, want %q", got.rows, tc.want)
			}
		})
	}
	if got := allocated(&api.Node{}, nil, nil); len(got.rows) != 0 {
		t.Errorf("a node that reported nothing allocatable: rows %q, want none", got.rows)
	}
}
