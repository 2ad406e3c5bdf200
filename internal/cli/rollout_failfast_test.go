package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/scheduler"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestRolloutStatusFailsFast: 4 replicas that each need a node of their
// own (required anti-affinity on the hostname label) on 3 nodes can never
// roll out; `maestro rollout status deployment web` fails once the pod has
// been unschedulable for --unschedulable-timeout, quoting the scheduler and
// advising what fits anti-affinity (not lowering requests); the scheduler
// recorded a FailedScheduling event with the same reason.
func TestRolloutStatusFailsFast(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 3)
	cfg := clientConfig(t, c)
	sel := &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.DeploymentSpec{
		Replicas: api.Ptr[int32](4), Selector: sel,
		Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "web", Image: "demo:1"}},
				Affinity: &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: []api.PodAffinityTerm{{LabelSelector: sel, TopologyKey: api.LabelHostname}},
				}}}}}}
	if _, err := c.Client.Deployments("default").Create(c.Ctx, d); err != nil {
		t.Fatal(err)
	}
	const reason = "0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules"
	start := time.Now()
	out, _, err := run(t, cfg, "rollout", "status", "deployment", "web", "--timeout", "2m", "--unschedulable-timeout", "2s")
	took := time.Since(start)
	if err == nil {
		t.Fatalf("rollout status of an impossible rollout succeeded:\n%s", out)
	}
	msg := err.Error()
	for _, want := range []string{"deployment default/web cannot roll out", reason, "relax the anti-affinity"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "requests") {
		t.Errorf("error advises about resource requests, which cannot help anti-affinity:\n%s", msg)
	}
	if !strings.Contains(out, "Waiting for rollout to finish") {
		t.Errorf("no progress printed before the failure:\n%s", out)
	}
	t.Logf("rollout status failed after %s: %v", took.Round(time.Millisecond), err)

	cluster.Eventually(t, 10*time.Second, "a FailedScheduling event", func() (bool, string) {
		evs, _, err := c.Client.Events("default").List(c.Ctx, client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, ev := range evs {
			if ev.Reason == scheduler.EventFailedScheduling && ev.Type == api.EventWarning &&
				ev.InvolvedObject.Kind == "Pod" && strings.HasPrefix(ev.InvolvedObject.Name, "web-") && ev.Message == reason {
				return true, ""
			}
		}
		return false, "none yet"
	})
}

// TestRolloutNamesDeploymentAsScaleDoes: every rollout subcommand takes
// the deployment as `maestro scale` does.
func TestRolloutNamesDeploymentAsScaleDoes(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: []string{"web"}, want: "web"},
		{args: []string{"deployment", "web"}, want: "web"},
		{args: []string{"deploy", "web"}, want: "web"},
		{args: []string{"deployments", "web"}, want: "web"},
		{args: []string{"deployment/web"}, want: "web"},
		{args: []string{"deploy/web"}, want: "web"},
		{args: []string{"Deployment/web"}, want: "web"},
		{args: []string{"pod", "web"}, wantErr: "pods have no rollout"},
		{args: []string{"svc/web"}, wantErr: "services have no rollout"},
		{args: []string{"frob", "web"}, wantErr: `unknown kind "frob"`},
		{args: []string{"deployment/"}, wantErr: "not a deployment name"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := deploymentArg(tc.args)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
