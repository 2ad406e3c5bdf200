package manager_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

var zones = []string{"zone-a", "zone-b", "zone-c"}

// deployment builds a deployment of n replicas with app=<name> labels.
func deployment(name string, n int32, mutate ...func(*api.Deployment)) *api.Deployment {
	labels := map[string]string{"app": name}
	d := &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(n),
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: labels},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "demo:1",
					Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Resources: api.ResourceRequirements{Requests: api.ResourceList{
						api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse("64Mi")}}}}},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	return d
}

func create(t *testing.T, c *cluster.Cluster, d *api.Deployment) *api.Deployment {
	t.Helper()
	out, err := c.Client.Deployments(d.Namespace).Create(c.Ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// placement counts bound pods per node and per zone.
func placement(t *testing.T, c *cluster.Cluster, selector string) (byNode, byZone map[string]int, bound, pending []*api.Pod) {
	byNode, byZone = map[string]int{}, map[string]int{}
	nodeZone := map[string]string{}
	nodes, _, err := c.Client.Nodes().List(c.Ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		nodeZone[n.Name] = n.Labels[api.LabelZone]
	}
	for _, p := range c.Pods(t, "default", selector) {
		if p.DeletionTimestamp != nil {
			continue
		}
		if p.Spec.NodeName == "" {
			pending = append(pending, p)
			continue
		}
		bound = append(bound, p)
		byNode[p.Spec.NodeName]++
		byZone[nodeZone[p.Spec.NodeName]]++
	}
	return byNode, byZone, bound, pending
}

func spread(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func scheduledCondition(p *api.Pod) string {
	if c := api.FindCondition(p.Status.Conditions, api.PodScheduled); c != nil {
		return string(c.Status) + "/" + c.Reason + ": " + c.Message
	}
	return "<none>"
}
