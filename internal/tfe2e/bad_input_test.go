package tfe2e_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// badInputWithin bounds how long an apply may take to fail on a wrong SSH
// key or an unreachable host (issue 12).
const badInputWithin = 60 * time.Second

// TestSSHPoolBadInput (issue 12): through real terraform against real
// sshd in emulated hosts, from empty state, an ssh pool whose private key
// the host refuses fails the apply within 60 s with an error naming the
// host and the SSH error; with the key fixed the same configuration
// applies whole. Then a pool grown onto an address where no host answers
// fails within 60 s naming that address; with the host list fixed the
// apply finishes the pool. The key never shows in terraform's output.
func TestSSHPoolBadInput(t *testing.T) {
	t.Parallel()
	requireOnPrem(t)
	o := newOneApply(t, "onprem-pool/main.tf")
	good := o.vars["ssh_private_key"]
	h1, h2 := o.hosts[0].Addr.String(), o.hosts[1].Addr.String()
	o.vars["image"] = testenv.DemoImage(t)
	o.vars["ssh_size"] = "1"
	o.vars["ssh_hosts"] = jsonList([]string{h1})
	o.vars["server_args"] = jsonList([]string{
		"--ssh-machine-agent-args", "--infra-image=" + testenv.PauseImage(t),
		"--pod-cidr", testenv.PodCIDR().String(), "--service-cidr", testenv.ServiceCIDR().String(),
	})

	// A key the host does not accept.
	wrong := testbed.NewSSHKey(t)
	o.vars["ssh_private_key"] = string(wrong.PrivatePEM)
	o.setVars()
	o.wantApplyFails("wrong private key", `ssh root@`+regexp.QuoteMeta(h1)+`:22: authentication failed: .*unable to authenticate`,
		string(wrong.PrivatePEM), good)

	// Fixed (a write-only key is sent again when its version changes).
	o.vars["ssh_private_key"] = good
	o.vars["ssh_private_key_version"] = "2"
	o.setVars()
	r := o.w.mustApply()
	t.Logf("apply with the key fixed took %s", r.took.Round(time.Second))
	o.connect()
	o.wantPoolNodes("onprem", 1)
	o.w.wantPlan(0)

	// A host that is not there.
	ghost := absentAddr(t, o)
	o.vars["ssh_size"] = "2"
	o.vars["ssh_hosts"] = jsonList([]string{h1, ghost})
	o.setVars()
	o.wantApplyFails("unreachable host", `ssh root@`+regexp.QuoteMeta(ghost)+`:22: unreachable`, good)

	// Fixed: the second host is a real one.
	o.vars["ssh_hosts"] = jsonList([]string{h1, h2})
	o.setVars()
	r = o.w.mustApply()
	t.Logf("apply with the host list fixed took %s", r.took.Round(time.Second))
	o.wantPoolNodes("onprem", 2)
	if ms := o.poolMachineObjects("onprem"); len(ms) != 2 {
		t.Errorf("pool onprem has %d machines after the fixed apply, want 2", len(ms))
	}
	o.w.wantPlan(0)

	o.w.mustDestroy()
	o.wantNothingLeft()
}

// wantApplyFails applies, expecting a failure within badInputWithin whose
// output matches want and shows none of secrets.
func (o *oneApply) wantApplyFails(what, want string, secrets ...string) {
	o.t.Helper()
	r := o.w.apply()
	o.t.Logf("%s: apply failed after %s", what, r.took.Round(100*time.Millisecond))
	switch {
	case r.code == 0:
		o.t.Fatalf("%s: apply succeeded\n%s", what, r)
	case r.took > badInputWithin:
		o.t.Errorf("%s: apply took %s to fail, want at most %s", what, r.took.Round(time.Second), badInputWithin)
	}
	// Terraform wraps long messages: match on the words.
	flat := strings.Join(strings.Fields(strings.ReplaceAll(r.output(), "│", "")), " ")
	if m := regexp.MustCompile(want).FindString(flat); m == "" {
		o.t.Errorf("%s: the apply's error does not match %q\n%s", what, want, r)
	} else {
		o.t.Logf("%s: the error says: %s", what, m)
	}
	for _, s := range secrets {
		for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(r.output(), line) {
				o.t.Errorf("%s: the apply's output shows the private key", what)
			}
		}
	}
}

// absentAddr is an address of the hosts' subnet that no host has.
func absentAddr(t *testing.T, o *oneApply) string {
	t.Helper()
	a := o.hosts[0].Site.Subnet.Addr()
	for range 200 {
		a = a.Next()
	}
	for _, h := range o.hosts {
		if h.Addr == a {
			t.Fatalf("host %s has the address meant to be absent", h.Name)
		}
	}
	if !o.hosts[0].Site.Subnet.Contains(a) {
		t.Fatalf("%s is outside %s", a, o.hosts[0].Site.Subnet)
	}
	return a.String()
}

// TestPoolMinAboveMaxFailsPlanOffline: in a configuration that makes its
// cluster in the same apply (the provider's settings unknown at plan
// time), a pool with min_size > max_size fails the plan at max_size,
// before anything is made. (provider's TestAccNodePool_planTimeValidation
// covers the same mistake with a running cluster.)
func TestPoolMinAboveMaxFailsPlanOffline(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "never-made")
	config := strings.ReplaceAll(localClusterConfig, "{{data}}", dataDir) + `
resource "maestro_node_pool" "p" {
  name     = "p"
  min_size = 3
  max_size = 1
  local {}
}
`
	w := newWorkspace(t, map[string]string{"main.tf": config})
	r := w.plan()
	t.Logf("plan failed after %s", r.took.Round(time.Millisecond))
	flat := strings.Join(strings.Fields(strings.ReplaceAll(r.output(), "│", "")), " ")
	want := regexp.MustCompile(`Error: Invalid max_size .* max_size = 1 .*max_size \(1\) must be greater than or equal to min_size \(3\)`)
	if r.code != 1 || !want.MatchString(flat) {
		t.Errorf("plan: want exit 1 naming max_size, got exit %d\n%s", r.code, r)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the plan made the cluster's data dir (%v)", err)
	}
}
