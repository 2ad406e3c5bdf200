package tfe2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/localserver"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// oneApply is the world of TestClusterInOneApply and the other tests of
// ssh pools: emulated on-prem hosts with real sshd, the workspace, and the
// variables of its applies.
type oneApply struct {
	t       *testing.T
	tb      *testbed.Testbed
	w       *workspace
	vars    map[string]string
	hosts   []*testbed.Host
	dataDir string
	install string
	network netip.Prefix
	bridge  string
	c       *client.Client
	cluster string   // the cluster's id: its containers' label
	baseEnv []string // the workspace's environment without variables
}

// sensitiveVars go in the environment (TF_VAR_...), not on the command line.
var sensitiveVars = map[string]bool{"ssh_private_key": true, "aws_secret_access_key": true, "gcp_credentials_json": true}

// setVars rebuilds the workspace's variables from o.vars: -var arguments,
// except sensitive ones, which go in the environment (TF_VAR_...) so
// that a failed command's printout never shows them.
func (o *oneApply) setVars() {
	if o.baseEnv == nil {
		o.baseEnv = slices.Clone(o.w.env)
	}
	o.w.vars, o.w.env = nil, slices.Clone(o.baseEnv)
	for _, k := range slices.Sorted(maps.Keys(o.vars)) {
		if sensitiveVars[k] {
			o.w.env = append(o.w.env, "TF_VAR_"+k+"="+o.vars[k])
			continue
		}
		o.w.setVar(k, o.vars[k])
	}
}

// requireOnPrem checks what the ssh pool tests need (root for the
// emulated hosts, Docker, OpenSSH's sshd) and builds the maestro binary
// the cluster runs.
func requireOnPrem(t *testing.T) {
	t.Helper()
	testreq.Root(t, "emulated hosts and local machines are network namespaces")
	testenv.RequireDocker(t)
	if _, err := exec.LookPath("/usr/sbin/sshd"); err != nil {
		testreq.Missing(t, "sshd (openssh-server; make deps installs it): %v", err)
	}
	maestroBesideProvider(t)
}

func jsonList(xs []string) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

// newOneApply makes the world of a test of an ssh pool: 3 emulated hosts
// with real sshd accepting one key, a network for local machines routed to
// them, and a workspace with testdata/<tf> beside the control plane they
// share (testdata/onprem-cluster.tf) and the variables it takes.
func newOneApply(t *testing.T, tf string) *oneApply {
	tb := testbed.New(t, testbed.Options{})
	site := tb.AddSite("onprem")
	key := testbed.NewSSHKey(t)
	o := &oneApply{t: t, tb: tb, vars: map[string]string{}}
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
	o.w = newWorkspace(t, map[string]string{"cluster.tf": readTestdata(t, "onprem-cluster.tf"), "main.tf": readTestdata(t, tf)})
	o.vars["data_dir"] = o.dataDir
	o.vars["advertise"] = tb.UplinkAddr().String()
	o.vars["ssh_hosts"] = jsonList(addrs) // a pool of 2 uses two of them
	o.vars["host_keys"] = jsonList(hostKeys)
	o.vars["install_dir"] = o.install
	o.vars["ssh_private_key"] = string(key.PrivatePEM)
	t.Cleanup(func() {
		if t.Failed() {
			o.logServerTail(80)
			o.w.destroy() // best effort: stop what the test made
		}
	})
	return o
}

// logServerTail logs the last n lines of the control plane's log.
func (o *oneApply) logServerTail(n int) {
	b, err := os.ReadFile(filepath.Join(o.dataDir, localserver.LogFile))
	if err != nil {
		o.t.Logf("the control plane's log: %v", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	o.t.Logf("last %d lines of the control plane's log:\n%s", n, strings.Join(lines[max(0, len(lines)-n):], "\n"))
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
	o.c, _ = o.w.configClient()
	info, err := o.c.ClusterInfo(o.t.Context())
	if err != nil {
		o.t.Fatal(err)
	}
	o.cluster = info.ClusterID
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
