//go:build linux

package tfe2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testbed"
)

// sshClusterConfig is an ssh maestro_cluster on one host and a namespace
// in it, through a provider configured from its outputs.
const sshClusterConfig = `
terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}
provider "maestro" {
  alias = "bootstrap"
}
resource "maestro_cluster" "c" {
  provider = maestro.bootstrap
  ssh {
    hosts            = ["{{host}}"]
    host_keys        = ["{{hostkey}}"]
    private_key_file = "{{keyfile}}"
    install_dir      = "{{dir}}"
  }
}
provider "maestro" {
  endpoint       = maestro_cluster.c.endpoint
  ca_certificate = maestro_cluster.c.ca_certificate
  token          = maestro_cluster.c.token
}
resource "maestro_namespace" "n" {
  metadata {
    name = "over-ssh"
  }
}
output "config" {
  value     = { server = maestro_cluster.c.endpoint, ca = maestro_cluster.c.ca_certificate, token = maestro_cluster.c.token }
  sensitive = true
}
`

// TestClusterSSHSingleHost: an apply with a key the host refuses fails at
// once naming the host and the SSH error, leaving no state; then one
// terraform apply installs a control plane
// over SSH on an emulated host running real sshd and makes a namespace in
// it through a provider configured from its outputs; the plan said what it
// installs; a second plan is empty; the key is in no output or state;
// destroy leaves nothing on the host.
func TestClusterSSHSingleHost(t *testing.T) {
	t.Parallel()
	maestroBesideProvider(t)
	tb := testbed.New(t, testbed.Options{Prefix: "mtfcp", StopGrace: 2 * time.Second})
	h := tb.AddHost(tb.AddSite("a"), "cp1")
	key := testbed.NewSSHKey(t)
	sshd := h.StartSSHD(testbed.SSHDOptions{AuthorizedKeys: []string{key.Authorized}})
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, testbed.NewSSHKey(t).PrivatePEM, 0o600); err != nil { // a key the host refuses
		t.Fatal(err)
	}
	installDir := filepath.Join(t.TempDir(), "cp")
	addr := h.Addr.String()
	w := newWorkspace(t, map[string]string{"main.tf": hcl(sshClusterConfig, "{{host}}", addr, "{{hostkey}}", sshd.HostKey,
		"{{keyfile}}", keyFile, "{{dir}}", installDir)})

	bad := w.apply()
	wantOutput(t, bad, regexp.QuoteMeta("ssh root@"+addr+":22: authentication failed"), "nothing was installed")
	if bad.code == 0 || bad.took > time.Minute {
		t.Fatalf("apply with a refused key: exit %d after %s, want a failure within a minute", bad.code, bad.took)
	}
	if st := w.run(nil, "state", "list"); strings.TrimSpace(st.stdout) != "" {
		t.Fatalf("a failed apply that installed nothing left state:\n%s", st.stdout)
	}
	if err := os.WriteFile(keyFile, key.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}

	p := w.wantPlan(2)
	wantOutput(t, p, `a control plane will be installed over SSH`,
		regexp.QuoteMeta("run maestro server with its embedded etcd on "+addr+", API on port 6443"))
	a := w.apply()
	t.Cleanup(func() {
		if _, err := os.Stat(installDir); err == nil {
			w.destroy()
		}
	})
	if a.code != 0 {
		t.Fatalf("apply failed\n%s", a)
	}
	t.Logf("apply took %s", a.took)
	w.wantPlan(0)

	c, server := w.configClient()
	if want := "https://" + addr + ":6443"; server != want {
		t.Errorf("endpoint %s, want %s", server, want)
	}
	if _, err := c.Namespaces().Get(context.Background(), "over-ssh"); err != nil {
		t.Fatalf("the namespace is not in the cluster the outputs name: %v", err)
	}
	state, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(key.PrivatePEM), "\n") {
		if len(line) > 16 && (strings.Contains(string(state), line) || strings.Contains(a.output(), line)) {
			t.Fatalf("a line of the private key is in the state or the apply output")
		}
	}

	d := w.mustDestroy()
	t.Logf("destroy took %s", d.took)
	if _, err := os.Stat(installDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("install dir left after destroy: %v", err)
	}
	// The provider's ssh sessions end with the destroy; sshd's process for
	// the last one may take a moment to exit after the client has gone.
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		pids, err := h.Pids(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, pid := range slices.DeleteFunc(pids, func(p int) bool { return p == sshd.Pid() }) {
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); len(cmdline) > 0 {
				left = append(left, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range left {
		t.Errorf("process still runs on the host 10 s after destroy: %s", p)
	}
}
