//go:build linux

package multihost_test

import (
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/loadgen"
	"github.com/maestro-dev/maestro/internal/testenv"
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

	testenv.RolloutUnderLoad{Client: b.c, Namespace: "default", Name: "backend",
		Load: loadgen.Config{URL: nodePortURL(b.h1, svc), Rate: 200, Workers: 16, Duration: 5 * time.Minute},
		Change: func(d *api.Deployment) {
			ct := &d.Spec.Template.Spec.Containers[0]
			ct.Env = append(ct.Env, api.EnvVar{Name: "VERSION", Value: "v2"})
		},
		MinRequests: 1000, Want: "version=v2",
	}.Run(b.ctx, t)
	hosts := map[string]int{}
	for _, p := range b.readyPods("backend", 6, time.Minute) {
		hosts[p.Spec.NodeName]++
	}
	if len(hosts) != 3 {
		t.Errorf("the new pods run on %v, want all three hosts", hosts)
	}
}
