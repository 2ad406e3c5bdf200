package tfe2e_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestHorizontalAutoscalingEndToEnd (issue 14): real containers on a local
// pool; CPU load on the demo application (its /burn endpoint) makes the
// autoscaler raise replicas from 1 toward 4 with the metrics pipeline's
// usage (agents report every 10 s, the autoscaler syncs every 15 s: the
// defaults); the time from the load's start to the first added pod Ready is
// reported; after the load, replicas return to 1 after the (shortened)
// scale-down stabilisation window; `terraform plan` stays empty throughout.
func TestHorizontalAutoscalingEndToEnd(t *testing.T) {
	t.Parallel()
	requireOnPrem(t)
	o := newOneApply(t, "hpa/main.tf")
	pause := testenv.PauseImage(t)
	o.vars["image"] = testenv.DemoImage(t)
	o.vars["ssh_size"] = "0"
	o.vars["server_args"] = jsonList([]string{
		"--local-machine-network", o.network.String(), "--local-machine-bridge", o.bridge,
		"--local-machine-agent-args", "--infra-image=" + pause,
		"--pod-cidr", testenv.PodCIDR().String(), "--service-cidr", testenv.ServiceCIDR().String(),
	})
	o.setVars()
	o.w.mustApply()
	o.connect()
	o.w.wantPlan(0)

	ctx := t.Context()
	pods := func() (all, ready int) {
		ps, _, err := o.c.Pods("app").List(ctx, client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.DeletionTimestamp != nil {
				continue
			}
			all++
			if api.IsPodReady(p) {
				ready++
			}
		}
		return all, ready
	}
	// The pod's address: its node's port for the service.
	url := fmt.Sprintf("http://%s:%d", o.nodeAddress("local"), o.nodePort())
	eventually(t, time.Minute, "the first pod serving", func() (bool, string) {
		_, err := get(url + "/")
		return err == nil, fmt.Sprint(err)
	})

	// Load: the one pod burns a core (10x its request) for 60 s.
	start := time.Now()
	resp, err := http.Post(url+"/burn?seconds=60&cores=1", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("burn: %v %v", err, resp)
	}
	resp.Body.Close()
	var firstReady time.Duration
	eventually(t, 2*time.Minute, "an added pod Ready", func() (bool, string) {
		all, ready := pods()
		if ready >= 2 {
			firstReady = time.Since(start)
			return true, ""
		}
		return false, fmt.Sprintf("%d pods, %d ready", all, ready)
	})
	t.Logf("load start -> first added pod Ready: %s (target <= 30 s; metrics every 10 s, autoscaler sync 15 s)", firstReady.Round(100*time.Millisecond))
	eventually(t, 2*time.Minute, "4 replicas (the maximum)", func() (bool, string) {
		d, err := o.c.Deployments("app").Get(ctx, "web")
		if err != nil {
			return false, err.Error()
		}
		return d.Spec.Replicas != nil && *d.Spec.Replicas == 4, fmt.Sprintf("replicas %v", d.Spec.Replicas)
	})
	o.w.wantPlan(0) // the autoscaler owns replicas: no diff

	a, err := o.c.Autoscalers("app").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if c := api.FindCondition(a.Status.Conditions, "ScalingLimited"); c == nil || c.Status != api.ConditionTrue {
		t.Errorf("at max replicas the autoscaler's ScalingLimited is %+v, want True", c)
	}

	// The load ends with the burn (60 s); replicas go back to 1 after the
	// 20 s stabilisation window.
	loadEnds := start.Add(60 * time.Second)
	eventually(t, 4*time.Minute, "back to 1 replica", func() (bool, string) {
		d, err := o.c.Deployments("app").Get(ctx, "web")
		if err != nil {
			return false, err.Error()
		}
		return d.Spec.Replicas != nil && *d.Spec.Replicas == 1, fmt.Sprintf("replicas %v", d.Spec.Replicas)
	})
	t.Logf("load end -> back to 1 replica: %s (stabilisation window 20 s)", time.Since(loadEnds).Round(time.Second))
	o.w.wantPlan(0)
	o.w.mustDestroy()
}
