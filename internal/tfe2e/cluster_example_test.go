package tfe2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localserver"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestClusterLocalExample applies examples/cluster-local from empty state
// as a user would (as root, each machine an emulated host): one apply
// makes the control plane, two pools of two Ready nodes and the
// quickstart application spread over both pools; the frontend answers
// on a node port with the whole chain; the second plan is empty; destroy
// leaves no process of the cluster and no data dir.
func TestClusterLocalExample(t *testing.T) {
	t.Parallel()
	w, dataDir := clusterLocalExample(t)
	w.mustApply()
	w.wantPlan(0)

	cfg, err := localserver.ClientConfig(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nodes, _, err := c.Nodes().List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]int{}
	nodePool := map[string]string{}
	var addresses []string
	for _, n := range nodes {
		pools[n.Labels[api.LabelNodePool]]++
		nodePool[n.Name] = n.Labels[api.LabelNodePool]
		for _, a := range n.Status.Addresses {
			addresses = append(addresses, a.Address)
		}
	}
	if pools["pool-a"] != 2 || pools["pool-b"] != 2 || len(addresses) == 0 {
		t.Fatalf("nodes per pool: %v (addresses %v), want 2 in pool-a and 2 in pool-b", pools, addresses)
	}
	pods, _, err := c.Pods("quickstart").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	podPools := map[string]bool{}
	for _, p := range pods {
		podPools[nodePool[p.Spec.NodeName]] = true
	}
	if !podPools["pool-a"] || !podPools["pool-b"] {
		t.Errorf("the application's pods run in pools %v, want both", podPools)
	}

	res := w.run(nil, "output", "-raw", "frontend_node_port")
	port, err := strconv.Atoi(strings.TrimSpace(res.stdout))
	if res.code != 0 || err != nil {
		t.Fatalf("terraform output frontend_node_port\n%s", res)
	}
	url := fmt.Sprintf("http://%s:%d/", addresses[0], port)
	eventually(t, 30*time.Second, "GET "+url+" answered by the whole chain", func() (bool, string) {
		body, err := get(url)
		if err != nil {
			return false, err.Error()
		}
		for _, want := range []string{"pod=frontend-", "pod=backend-", "pod=store-", "visits="} {
			if !strings.Contains(body, want) {
				return false, fmt.Sprintf("no %q in %q", want, body)
			}
		}
		return true, ""
	})

	rec, err := localserver.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	w.mustDestroy()
	if processRuns(rec.PID) {
		t.Errorf("the supervisor (pid %d) runs after destroy", rec.PID)
	}
	if left := processesMentioning(dataDir); len(left) > 0 {
		t.Errorf("processes of the cluster left after destroy: %v", left)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir left after destroy: %v", err)
	}
}

// processesMentioning lists the running processes whose command line
// names s (the cluster's data dir: its server, its machines' agents).
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(b), s) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		if processRuns(pid) {
			out = append(out, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(b), "\x00", " ")))
		}
	}
	return out
}

// clusterLocalExample is a workspace of examples/cluster-local whose
// machines are emulated hosts, on ranges of its own (10.199.x machines and
// 10.198.x services are used by no other test package), and its data dir.
func clusterLocalExample(t testing.TB) (*workspace, string) {
	t.Helper()
	testreq.Root(t, "local machines are emulated hosts (network namespaces, a bridge)")
	tagDemoV1(t, testenv.RequireDocker(t))
	maestroBesideProvider(t)
	dataDir := filepath.Join(t.TempDir(), "cluster")
	w := copyWorkspace(t, filepath.Join("..", "..", "examples", "cluster-local"))
	pid := os.Getpid() % 250
	w.setVar("data_dir", dataDir)
	w.setVar("listen", "0.0.0.0:0")
	w.setVar("server_args", fmt.Sprintf(`["--service-cidr=10.198.%d.0/24","--pod-cidr=%s","--local-machine-network=10.199.%d.0/24"]`,
		pid, testenv.PodCIDR(), pid))
	return w, dataDir
}

// BenchmarkClusterLocalExample measures `terraform apply` of
// examples/cluster-local from empty state (apply-s: control plane, two
// pools of two Ready nodes, the quickstart app rolled out) and its
// `terraform destroy` (destroy-s: drains, machines, server). Run it with
// -benchtime 3x, as root.
func BenchmarkClusterLocalExample(b *testing.B) {
	var apply, destroy float64
	for range b.N {
		w, _ := clusterLocalExample(b)
		apply += w.mustApply().took.Seconds()
		destroy += w.mustDestroy().took.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(apply/n, "apply-s")
	b.ReportMetric(destroy/n, "destroy-s")
	b.ReportMetric(0, "ns/op")
}
