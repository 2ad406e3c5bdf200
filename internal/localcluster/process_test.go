package localcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// The process runtime runs pods as host processes on machines without
// Docker: same lifecycle (start, restart on exit, graceful stop), logs.
func TestProcessRuntime(t *testing.T) {
	demo := testenv.BuildBinary(t, "./cmd/maestro-demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Config{
		DataDir: t.TempDir(), Nodes: 2, Runtime: localcluster.RuntimeProcess, Listen: "127.0.0.1:0",
		ClientConfigPath: "-", UnsafeNoFsync: true, NodePrefix: "proc-", AddressPrefix: "127.0.99.", Log: testenv.Logger(t),
		// Its own service range (and so DNS address), as startCluster's: not
		// the default another cluster on the machine may be using.
		ServiceCIDR: testenv.ServiceCIDR(),
		PodCIDR:     testenv.PodCIDR(),
		Agent:       func(cfg *agent.Config) { cfg.RestartBackoffBase = time.Second; cfg.ServerPort = 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	mk := func(name string, port int32, inits []api.Container, args ...string) {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.PodSpec{
			TerminationGracePeriodSeconds: api.Ptr[int64](3),
			InitContainers:                inits,
			Containers: []api.Container{{Name: "app", Command: []string{demo}, Args: append([]string{fmt.Sprintf("--port=%d", port)}, args...),
				ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromInt(port)}}, PeriodSeconds: 1}}},
		}}
		if _, err := c.Client.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Init containers run first, in order, as processes too.
	order := filepath.Join(t.TempDir(), "order")
	mk("web", 18080, []api.Container{
		{Name: "one", Command: []string{demo}, Args: []string{"task", "--append=" + order + "=one"}},
		{Name: "two", Command: []string{demo}, Args: []string{"task", "--append=" + order + "=two"}},
	})
	mk("crasher", 18081, nil, "--exit-after=300ms", "--exit-code=3")
	var web *api.Pod
	eventually(t, 30*time.Second, "process pod ready", func() (bool, string) {
		p, err := c.Client.Pods("default").Get(ctx, "web")
		if err != nil {
			return false, err.Error()
		}
		web = p
		return api.IsPodReady(p), podState(p)
	})
	// As root each pod has a network namespace on the node's pod network;
	// otherwise pods share the host's.
	addr := "127.0.0.1"
	if os.Geteuid() == 0 {
		addr = web.Status.PodIP
		node, err := c.Client.Nodes().Get(ctx, web.Spec.NodeName)
		if err != nil {
			t.Fatal(err)
		}
		if cidr, err := netip.ParsePrefix(node.Spec.PodCIDR); err != nil || !cidr.Contains(netip.MustParseAddr(addr)) {
			t.Errorf("process pod IP %s: want one of its node's pod CIDR %q", addr, node.Spec.PodCIDR)
		}
	} else if web.Status.PodIP != web.Status.HostIP || !strings.HasPrefix(web.Status.PodIP, "127.0.99.") {
		t.Errorf("process pod IP %s, host %s: want the node address", web.Status.PodIP, web.Status.HostIP)
	}
	if body, err := get("http://" + addr + ":18080/"); err != nil || !strings.Contains(body, "pod=") {
		t.Errorf("the process answers %q, %v", body, err)
	}
	if data, err := os.ReadFile(order); string(data) != "one\ntwo\n" {
		t.Errorf("init containers wrote %q, %v; want one, then two", data, err)
	}
	for _, cs := range web.Status.InitContainerStatuses {
		if term := cs.State.Terminated; term == nil || term.ExitCode != 0 || !cs.Ready {
			t.Errorf("init container %s of a ready pod: %+v", cs.Name, cs)
		}
	}
	if len(web.Status.InitContainerStatuses) != 2 || conditionStatus(web, api.PodInitialized) != api.ConditionTrue {
		t.Errorf("init statuses of a ready pod: %s", describeInit(web))
	}
	eventually(t, 30*time.Second, "crashing process restarted", func() (bool, string) {
		p, _ := c.Client.Pods("default").Get(ctx, "crasher")
		cs := containerStatus(p, "app")
		last := cs.LastState.Terminated
		return cs.RestartCount >= 2 && last != nil && last.ExitCode == 3, podState(p)
	})
	var logs bytes.Buffer
	if err := c.Client.PodLogs(ctx, "default", "web", client.LogOptions{}, &logs); err != nil || !strings.Contains(logs.String(), "maestro-demo listening") {
		t.Errorf("process logs %q, %v", logs.String(), err)
	}
	if err := c.Client.Pods("default").Delete(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "process stopped", func() (bool, string) {
		_, err := get("http://" + addr + ":18080/")
		return err != nil, fmt.Sprint(err)
	})
}

// TestRestartOnItsDataDir: `maestro up` again on its data directory brings
// the same nodes back with their saved credentials (no new join), at the
// addresses they were admitted with, so logs still come from their agents.
func TestRestartOnItsDataDir(t *testing.T) {
	demo := testenv.BuildBinary(t, "./cmd/maestro-demo")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := localcluster.Config{
		// The same API address both times: agents keep the server's URL with their credentials.
		DataDir: t.TempDir(), Nodes: 1, Runtime: localcluster.RuntimeProcess, Listen: testenv.FreeAddr(t),
		ClientConfigPath: "-", UnsafeNoFsync: true, NodePrefix: "again-", AddressPrefix: "127.0.98.", Log: testenv.Logger(t),
		ServiceCIDR: testenv.ServiceCIDR(),
		PodCIDR:     testenv.PodCIDR(),
		Agent:       func(cfg *agent.Config) { cfg.ServerPort = 0 },
	}
	var podCIDR string // the node's, from the cluster's range; kept across the restart
	for round := range 2 {
		c, err := localcluster.Start(ctx, cfg)
		if err != nil {
			t.Fatalf("start %d: %v", round, err)
		}
		got := waitPodCIDR(t, c, "again-1")
		if p := netip.MustParsePrefix(got); p.Bits() != 24 || !cfg.PodCIDR.Contains(p.Addr()) || (round == 1 && got != podCIDR) {
			t.Fatalf("start %d: node pod CIDR %s, want a /24 of the cluster's %s, the same after the restart (%q)", round, got, cfg.PodCIDR, podCIDR)
		}
		podCIDR = got
		n, err := c.Client.Nodes().Get(ctx, "again-1")
		if err != nil || n.Labels[api.LabelZone] != localcluster.Zones[0] || n.Labels[api.LabelNodePool] != "local" {
			t.Fatalf("start %d: node %v: %v", round, n, err)
		}
		tokens, err := c.Client.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tokens {
			if tk.Role == "join" {
				t.Errorf("start %d: join token %+v left (a restart needs none; the first start's are used up)", round, tk)
			}
		}
		name := fmt.Sprintf("p%d", round)
		port := int32(18090 + round)
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.PodSpec{
			TerminationGracePeriodSeconds: api.Ptr[int64](1),
			Containers:                    []api.Container{{Name: "app", Command: []string{demo}, Args: []string{fmt.Sprintf("--port=%d", port)}}},
		}}
		if _, err := c.Client.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "logs through the agent", func() (bool, string) {
			var logs bytes.Buffer
			err := c.Client.PodLogs(ctx, "default", name, client.LogOptions{}, &logs)
			return err == nil && strings.Contains(logs.String(), "maestro-demo listening"), fmt.Sprint(logs.String(), err)
		})
		if err := c.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// waitPodCIDR waits (10 s) for the control plane to give the node its pod CIDR.
func waitPodCIDR(t *testing.T, c *localcluster.Cluster, node string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.Client.Nodes().Get(context.Background(), node)
		if err == nil && n.Spec.PodCIDR != "" {
			return n.Spec.PodCIDR
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s got no pod CIDR within 10 s (%v)", node, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
