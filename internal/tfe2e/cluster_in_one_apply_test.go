package tfe2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/loadgen"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// oneApply is TestClusterInOneApply's world: emulated on-prem hosts with
// real sshd, the workspace, and the variables of its applies.
type oneApply struct {
	t       *testing.T
	w       *workspace
	vars    map[string]string
	hosts   []*testbed.Host
	dataDir string
	install string
	network netip.Prefix
	bridge  string
	c       *client.Client
	cluster string // the cluster's id: its containers' label
}

// setVars rebuilds the workspace's -var arguments from o.vars.
func (o *oneApply) setVars() {
	o.w.vars = nil
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range o.vars {
			if !yield(k) {
				return
			}
		}
	}) {
		o.w.setVar(k, o.vars[k])
	}
}

func jsonList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

// TestClusterInOneApply (issue 12): from empty state one `terraform apply`
// makes a local control plane, a local pool of 2 and an ssh pool of 2
// emulated hosts reached over real OpenSSH, and an application spread over
// all 4 nodes that answers through its service across hosts; the second
// plan is empty; the ssh pool goes 2 -> 3 -> 1 and then has its template
// changed under 50 requests/s with no failed request (every machine
// drained before it goes); destroy leaves no machine, process, container,
// namespace or installed agent.
func TestClusterInOneApply(t *testing.T) {
	testreq.Root(t, "emulated hosts and local machines are network namespaces")
	testenv.RequireDocker(t)
	if _, err := exec.LookPath("/usr/sbin/sshd"); err != nil {
		testreq.Missing(t, "sshd (openssh-server; make deps installs it): %v", err)
	}
	maestroBesideProvider(t)
	image := testenv.DemoImage(t)
	pause := testenv.PauseImage(t)
	o := newOneApply(t)

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

	// Scale the ssh pool 2 -> 3 -> 1 under load: no request fails.
	o.underLoad(url, "scale the ssh pool to 3", func() { o.vars["ssh_size"] = "3"; o.setVars(); o.w.mustApply() })
	o.wantPoolNodes("onprem", 3)
	o.underLoad(url, "scale the ssh pool to 1", func() { o.vars["ssh_size"] = "1"; o.setVars(); o.w.mustApply() })
	o.wantPoolNodes("onprem", 1)
	before := o.poolMachines("onprem")

	// A template change replaces the ssh machine, drained first.
	o.underLoad(url, "change the ssh pool's template", func() { o.vars["generation"] = "two"; o.setVars(); o.w.mustApply() })
	after := o.poolMachines("onprem")
	if len(after) != 1 || slices.Contains(before, after[0]) {
		t.Errorf("ssh machines after the template change: %v (before %v); want a new one", after, before)
	}
	o.w.wantPlan(0)

	r = o.w.mustDestroy()
	t.Logf("destroy took %s", r.took.Round(time.Second))
	o.wantNothingLeft()
}

func newOneApply(t *testing.T) *oneApply {
	tb := testbed.New(t, testbed.Options{})
	site := tb.AddSite("onprem")
	key := testbed.NewSSHKey(t)
	o := &oneApply{t: t, vars: map[string]string{}}
	var addrs, hostKeys []string
	for i := range 3 {
		h := tb.AddHost(site, fmt.Sprintf("h%d", i+1))
		sshd := h.StartSSHD(testbed.SSHDOptions{AuthorizedKeys: []string{key.Authorized}})
		o.hosts = append(o.hosts, h)
		addrs = append(addrs, h.Addr.String())
		hostKeys = append(hostKeys, h.Addr.String()+" "+sshd.HostKey)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	o.network = netip.MustParsePrefix(fmt.Sprintf("10.216.%d.0/24", b[0]))
	o.bridge = "mlbe" + hex.EncodeToString(b[1:])
	// The on-prem hosts and the local machines reach each other routed,
	// through this host, as two networks would.
	tb.RouteToTestProcess(o.network, o.bridge)

	root := t.TempDir()
	o.dataDir, o.install = filepath.Join(root, "cluster"), filepath.Join(root, "agents")
	o.w = newWorkspace(t, map[string]string{"main.tf": readTestdata(t, "cluster-in-one-apply/main.tf")})
	o.vars["data_dir"] = o.dataDir
	o.vars["advertise"] = tb.UplinkAddr().String()
	o.vars["ssh_hosts"] = jsonList(addrs) // a pool of 2 uses two of them
	o.vars["host_keys"] = jsonList(hostKeys)
	o.vars["install_dir"] = o.install
	o.vars["ssh_private_key"] = string(key.PrivatePEM)
	t.Cleanup(func() {
		if t.Failed() {
			o.w.destroy() // best effort: stop what the test made
		}
	})
	return o
}

func readTestdata(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// connect makes a client from the apply's outputs.
func (o *oneApply) connect() {
	r := o.w.run(nil, "output", "-json", "config")
	var out struct{ Server, CA, Token string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		o.t.Fatalf("terraform output config\n%s", r)
	}
	c, err := client.New(client.Config{Server: out.Server, CertificateAuthorityData: out.CA, Token: out.Token})
	if err != nil {
		o.t.Fatal(err)
	}
	o.c = c
	info, err := c.ClusterInfo(o.t.Context())
	if err != nil {
		o.t.Fatal(err)
	}
	o.cluster = info.ClusterID
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

func (o *oneApply) wantPoolNodes(pool string, n int) {
	o.t.Helper()
	nodes, _, err := o.c.Nodes().List(o.t.Context(), client.ListOptions{LabelSelector: api.LabelNodePool + "=" + pool})
	if err != nil {
		o.t.Fatal(err)
	}
	ready := 0
	for _, nd := range nodes {
		if api.IsNodeReady(nd) {
			ready++
		}
	}
	if ready != n || len(nodes) != n {
		o.t.Errorf("pool %s: %d nodes (%d Ready), want %d Ready", pool, len(nodes), ready, n)
	}
}

func (o *oneApply) poolMachines(pool string) []string {
	ms, _, err := o.c.Machines().List(o.t.Context(), client.ListOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		if m.Spec.Pool == pool {
			names = append(names, m.Name)
		}
	}
	return names
}

// wantNothingLeft: after destroy, no process of the cluster or its agents,
// no container, no machine namespace, no bridge, no installed agent.
func (o *oneApply) wantNothingLeft() {
	t := o.t
	for _, dir := range []string{o.dataDir, o.install} {
		if out, _ := exec.Command("pgrep", "-f", dir).Output(); len(out) > 0 {
			t.Errorf("processes of %s left after destroy: %s", dir, out)
		}
	}
	if entries, _ := os.ReadDir(o.install); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		// The shared binary may stay only while machines remain.
		t.Errorf("installed agents left in %s after destroy: %v", o.install, names)
	}
	if _, err := os.Stat(o.dataDir); err == nil {
		t.Errorf("the control plane's data dir %s is left after destroy", o.dataDir)
	}
	if _, err := os.Stat("/sys/class/net/" + o.bridge); err == nil {
		t.Errorf("the local machines' bridge %s is left after destroy", o.bridge)
	}
	for _, h := range o.hosts {
		if out, _ := h.Exec(context.Background(), "ip", "-o", "link", "show"); strings.Contains(out, "mst") {
			t.Errorf("host %s has pod network links left: %s", h.Name, out)
		}
	}
	out, _ := exec.Command("docker", "ps", "-a", "-q", "--filter", "label="+runtime.LabelCluster+"="+o.cluster).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		t.Errorf("%d containers of the cluster left after destroy: %v", len(ids), ids)
	}
}
