//go:build linux

package multihost_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/loadgen"
)

// TestRollingUpdateAcrossHosts rolls 6 replicas spread over the three
// hosts to a new version under 200 requests/s through a node port: no
// request may fail, and the new pods run on every host.
func TestRollingUpdateAcrossHosts(t *testing.T) {
	b := newBed(t)
	b.createDeployment(b.demoDeployment("backend", 6, func(d *api.Deployment) {
		d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxUnavailable: api.Ptr(api.FromInt(0)), MaxSurge: api.Ptr(api.FromInt(2))}
	}))
	svc := b.createService(service("backend", "backend"))
	b.readyPods("backend", 6, 3*time.Minute)

	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	res := make(chan loadgen.Result, 1)
	go func() {
		res <- loadgen.Run(ctx, loadgen.Config{URL: nodePortURL(b.h1, svc), Rate: 200, Workers: 16, Duration: 5 * time.Minute})
	}()
	time.Sleep(2 * time.Second)
	d, err := b.c.Deployments("default").Get(b.ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	ct := &d.Spec.Template.Spec.Containers[0]
	ct.Env = append(ct.Env, api.EnvVar{Name: "VERSION", Value: "v2"})
	if _, err := b.c.Deployments("default").Update(b.ctx, d); err != nil {
		t.Fatal(err)
	}
	b.eventually(4*time.Minute, "rollout complete", func() (bool, string) {
		d, err := b.c.Deployments("default").Get(b.ctx, "backend")
		if err != nil {
			return false, err.Error()
		}
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == 6 && st.Replicas == 6 && st.AvailableReplicas == 6,
			fmt.Sprintf("updated %d replicas %d available %d", st.UpdatedReplicas, st.Replicas, st.AvailableReplicas)
	})
	time.Sleep(2 * time.Second)
	cancel()
	r := <-res
	t.Logf("load during the rollout: %s", r.Summary())
	// At 200/s the rollout (about 8 s here) takes well over 1,000.
	if len(r.Samples) < 1000 {
		t.Fatalf("only %d requests: the load did not run", len(r.Samples))
	}
	if f := r.Failures(); len(f) > 0 {
		t.Fatalf("%d of %d requests failed during the rolling update; first: %+v", len(f), len(r.Samples), f[0])
	}
	if last := r.Samples[len(r.Samples)-1].Body; !strings.Contains(last, "version=v2") {
		t.Fatalf("after the rollout the service answers %q, want version v2", last)
	}
	hosts := map[string]int{}
	for _, p := range b.readyPods("backend", 6, time.Minute) {
		hosts[p.Spec.NodeName]++
	}
	if len(hosts) != 3 {
		t.Errorf("the new pods run on %v, want all three hosts", hosts)
	}
}
