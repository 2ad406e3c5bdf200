package tfe2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/loadgen"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestClusterInOneApply (issue 12): from empty state one `terraform apply`
// makes a local control plane, a local pool of 2 and an ssh pool of 2
// emulated hosts reached over real OpenSSH, and an application spread over
// all 4 nodes that answers through its service across hosts; the second
// plan is empty; a template change replaces both ssh machines one at a
// time, then the ssh pool goes 2 -> 3 -> 1, all under 50 requests/s with no
// failed request (every machine drained before it goes); destroy leaves no
// machine, process, container, namespace or installed agent.
func TestClusterInOneApply(t *testing.T) {
	requireOnPrem(t)
	image := testenv.DemoImage(t)
	pause := testenv.PauseImage(t)
	o := newOneApply(t, "cluster-in-one-apply/main.tf")

	o.vars["image"] = image
	o.vars["ssh_size"] = "2"
	agentArgs := "--infra-image=" + pause
	o.vars["server_args"] = jsonList([]string{
		"--local-machine-network", o.network.String(), "--local-machine-bridge", o.bridge,
		"--local-machine-agent-args", agentArgs, "--ssh-machine-agent-args", agentArgs,
		"--pod-cidr", testenv.PodCIDR().String(), "--service-cidr", testenv.ServiceCIDR().String(),
	})
	o.setVars()

	// Plan from empty state: offline, everything known after apply.
	o.w.wantPlan(2)
	r := o.w.mustApply()
	t.Logf("apply from empty state took %s", r.took.Round(time.Second))
	o.connect()
	nodePort := o.nodePort()
	localNode := o.nodeAddress("local")
	url := fmt.Sprintf("http://%s:%d/", localNode, nodePort)

	// The application answers through its service from every node,
	// served by pods on all 4 nodes.
	o.wantServedByAllNodes(url, 4)
	o.w.wantPlan(0)

	// A template change replaces both ssh machines one at a time (one
	// spare host: never more than 3 machines), each drained first, under
	// load: no request fails.
	before := o.poolMachines("onprem")
	most := o.watchPoolSize("onprem", func() {
		o.underLoad(url, "change the ssh pool's template", func() { o.vars["generation"] = "two"; o.setVars(); o.w.mustApply() })
	})
	after := o.poolMachines("onprem")
	if len(after) != 2 || slices.ContainsFunc(after, func(m string) bool { return slices.Contains(before, m) }) {
		t.Errorf("ssh machines after the template change: %v (before %v); want two new ones", after, before)
	}
	if most > 3 {
		t.Errorf("%d ssh machines at once during the template change; want at most 3 (one replaced at a time)", most)
	}
	o.w.wantPlan(0)

	// Scale the ssh pool 2 -> 3 -> 1 under load: no request fails.
	o.underLoad(url, "scale the ssh pool to 3", func() { o.vars["ssh_size"] = "3"; o.setVars(); o.w.mustApply() })
	o.wantPoolNodes("onprem", 3)
	o.underLoad(url, "scale the ssh pool to 1", func() { o.vars["ssh_size"] = "1"; o.setVars(); o.w.mustApply() })
	o.wantPoolNodes("onprem", 1)
	o.w.wantPlan(0)

	r = o.w.mustDestroy()
	t.Logf("destroy took %s", r.took.Round(time.Second))
	o.wantNothingLeft()
}

// watchPoolSize runs change and returns the most machines pool had at
// once meanwhile (sampled every 100 ms).
func (o *oneApply) watchPoolSize(pool string, change func()) int {
	ctx, cancel := context.WithCancel(o.t.Context())
	most := make(chan int, 1)
	go func() {
		n := 0
		for ctx.Err() == nil {
			if ms, _, err := o.c.Machines().List(ctx, client.ListOptions{}); err == nil {
				n = max(n, len(slices.DeleteFunc(ms, func(m *api.Machine) bool { return m.Spec.Pool != pool })))
			}
			time.Sleep(100 * time.Millisecond)
		}
		most <- n
	}()
	change()
	cancel()
	return <-most
}

func (o *oneApply) nodePort() int32 {
	svc, err := o.c.Services("app").Get(o.t.Context(), "web")
	if err != nil || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		o.t.Fatalf("service app/web: %v %+v", err, svc)
	}
	return svc.Spec.Ports[0].NodePort
}

// nodeAddress is the address of a node of pool.
func (o *oneApply) nodeAddress(pool string) string {
	nodes, _, err := o.c.Nodes().List(o.t.Context(), client.ListOptions{LabelSelector: api.LabelNodePool + "=" + pool})
	if err != nil || len(nodes) == 0 {
		o.t.Fatalf("nodes of pool %s: %v (%d)", pool, err, len(nodes))
	}
	return api.NodeAddressOf(nodes[0], api.NodeInternalIP)
}

// wantServedByAllNodes asks url until pods on n distinct nodes answered.
func (o *oneApply) wantServedByAllNodes(url string, n int) {
	o.t.Helper()
	pods, _, err := o.c.Pods("app").List(o.t.Context(), client.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		o.t.Fatal(err)
	}
	nodeOf := map[string]string{}
	for _, p := range pods {
		nodeOf[p.Name] = p.Spec.NodeName
	}
	seen := map[string]bool{}
	eventually(o.t, time.Minute, fmt.Sprintf("answers from pods on %d nodes through %s", n, url), func() (bool, string) {
		body, err := get(url)
		if err != nil {
			return false, err.Error()
		}
		for name, node := range nodeOf {
			if strings.Contains(body, "pod="+name+" ") {
				seen[node] = true
			}
		}
		return len(seen) >= n, fmt.Sprintf("nodes so far: %v", seen)
	})
}

// underLoad runs change while 50 requests/s go to url, and fails the test
// on any failed request.
func (o *oneApply) underLoad(url, what string, change func()) {
	o.t.Helper()
	ctx, cancel := context.WithCancel(o.t.Context())
	done := make(chan loadgen.Result, 1)
	go func() { done <- loadgen.Run(ctx, loadgen.Config{URL: url, Rate: 50, Workers: 8, Duration: time.Hour}) }()
	time.Sleep(2 * time.Second) // the load is running before the change
	start := time.Now()
	change()
	took := time.Since(start)
	time.Sleep(2 * time.Second)
	cancel()
	res := <-done
	o.t.Logf("%s: apply %s under load: %s", what, took.Round(time.Second), res.Summary())
	if f := res.Failures(); len(f) > 0 {
		o.t.Errorf("%s: %d of %d requests failed, first: %+v", what, len(f), len(res.Samples), f[0])
	}
	if len(res.Samples) < 50 {
		o.t.Errorf("%s: only %d requests were made", what, len(res.Samples))
	}
}
