package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestRolloutStatusWithAutoscaling: `maestro rollout status` of pods a node
// pool is adding nodes for says which pool it waits for and succeeds once
// they run; for a pod no pool can hold it fails at once with the reason.
func TestRolloutStatusWithAutoscaling(t *testing.T) {
	t.Parallel()
	fake := cloudtest.NewFake()
	c := cluster.Start(t, cluster.FakeCloud(fake), func(o *cluster.Options) {
		o.Manager.ClusterAutoscaler = clusterautoscaler.Config{ScanInterval: 300 * time.Millisecond, BatchQuiet: 200 * time.Millisecond}
	})
	c.JoinMachines(t, fake, nil)
	join := fake.OnCreate // machines take 2 s to join, as a wait would see them
	fake.OnCreate = func(req cloud.MachineRequest, m cloud.Machine) {
		go func() {
			select {
			case <-c.Ctx.Done():
			case <-time.After(2 * time.Second):
				join(req, m)
			}
		}()
	}
	cfg := clientConfig(t, c)
	pool := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.NodePoolSpec{Provider: api.ProviderLocal,
		MinSize: 1, MaxSize: 3, Autoscaling: true}}
	if _, err := c.Client.NodePools().Create(c.Ctx, pool); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 30*time.Second, "the pool's first node", func() (bool, string) {
		p, err := c.Client.NodePools().Get(c.Ctx, "web")
		return err == nil && p.Status.ReadyMachines == 1, ""
	})
	deploy := func(name string, replicas int32, cpu string) {
		t.Helper()
		d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.DeploymentSpec{
			Replicas: api.Ptr(replicas), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "demo:1",
					Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: resource.MustParse(cpu)}}}}}}}}
		if _, err := c.Client.Deployments("default").Create(c.Ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	deploy("load", 3, "3") // one per 4-cpu node: the pool grows to 3
	out, _, err := run(t, cfg, "rollout", "status", "load", "--timeout", "60s")
	if err != nil || !strings.Contains(out, "(waiting for node pool web to add") || !strings.Contains(out, `deployment "load" successfully rolled out`) {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	deploy("huge", 1, "64")
	start := time.Now()
	out, _, err = run(t, cfg, "rollout", "status", "huge", "--timeout", "60s")
	if err == nil || !strings.Contains(err.Error(), "no node pool can hold the pod: node pool web: a new node would not fit it (insufficient cpu)") {
		t.Fatalf("rollout status of a pod too big: %v\n%s; want it to fail with the reason", err, out)
	}
	t.Logf("rollout status failed %s after the deployment was created: %v", time.Since(start).Round(time.Millisecond), err)
}
