package scheduler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// registeredNodes are nodes as the API server stores them after agents
// register: named, with maestro's zone label only (as an agent's --labels
// or a join token give it) and their system info; the server's defaulting
// adds Kubernetes' well-known labels.
func registeredNodes(t *testing.T, zones ...string) []*api.Node {
	t.Helper()
	var out []*api.Node
	for i, z := range zones {
		n := &api.Node{
			ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("node-%d", i+1), Labels: map[string]string{api.LabelZone: z}},
			Status: api.NodeStatus{
				Allocatable: api.ResourceList{api.ResourceCPU: resource.MustParse("4"), api.ResourceMemory: resource.MustParse("8Gi"), api.ResourcePods: resource.MustParse("110")},
				Conditions:  []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}},
				NodeInfo:    api.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64"},
			},
		}
		api.Default(n)
		if n.Labels[api.LabelKubernetesHostname] != n.Name || n.Labels[api.LabelKubernetesZone] != z {
			t.Fatalf("node %s labels %v: want %s=%s and %s=%s", n.Name, n.Labels, api.LabelKubernetesHostname, n.Name, api.LabelKubernetesZone, z)
		}
		out = append(out, n)
	}
	return out
}

// Configurations written for Kubernetes name its labels: they schedule as
// they mean to on maestro's nodes.
func TestKubernetesWellKnownLabelsSchedule(t *testing.T) {
	t.Run("required anti-affinity on kubernetes.io/hostname: one per node", func(t *testing.T) {
		nodes := registeredNodes(t, "z1", "z2", "z3")
		pls := Preview(NewSnapshotFrom(nodes, nil), replicas(4, requiredAntiAffinity(term(api.LabelKubernetesHostname, "app", "web"))))
		used := map[string]int{}
		for _, pl := range pls {
			if pl.Node != "" {
				used[pl.Node]++
			}
		}
		if len(used) != 3 {
			t.Errorf("pods per node %v: want one on each of the 3 nodes", used)
		}
		for n, c := range used {
			if c != 1 {
				t.Errorf("node %s has %d pods, want 1", n, c)
			}
		}
		u := unplaced(pls)
		if len(u) != 1 || !strings.Contains(u[0].Reason, "0/3 nodes") {
			t.Errorf("unplaced %+v: want the fourth pod, with the scheduler's reason over 3 nodes", u)
		}
	})
	t.Run("topology spread over topology.kubernetes.io/zone", func(t *testing.T) {
		nodes := registeredNodes(t, "z1", "z1", "z2", "z2", "z3", "z3")
		pls := Preview(NewSnapshotFrom(nodes, nil), replicas(6, spread(1, api.LabelKubernetesZone, api.DoNotSchedule, "app", "web")))
		if u := unplaced(pls); len(u) > 0 {
			t.Fatalf("unplaced: %+v", u)
		}
		if got := perZone(t, nodes, pls); got["z1"] != 2 || got["z2"] != 2 || got["z3"] != 2 {
			t.Errorf("per-zone counts %v, want 2 in each zone", got)
		}
	})
	t.Run("node selector on kubernetes.io/os and arch", func(t *testing.T) {
		nodes := registeredNodes(t, "z1", "z2")
		pls := Preview(NewSnapshotFrom(nodes, nil), replicas(2, nodeSelector(api.LabelKubernetesOS, "linux", api.LabelKubernetesArch, "amd64")))
		if u := unplaced(pls); len(u) > 0 {
			t.Errorf("unplaced: %+v", u)
		}
		pls = Preview(NewSnapshotFrom(nodes, nil), replicas(1, nodeSelector(api.LabelKubernetesOS, "windows")))
		if u := unplaced(pls); len(u) != 1 {
			t.Errorf("a windows pod placed on linux nodes: %+v", pls)
		}
	})
}
