//go:build linux

package ssh

import (
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// bed is a test bed of hosts each running a real sshd that lets key in
// (newBed's sshd options, if any, adjust them).
type bed struct {
	tb    *testbed.Testbed
	site  *testbed.Site
	hosts []*testbed.Host
	sshds []*testbed.SSHD
	key   testbed.SSHKey
}

func newBed(t testing.TB, n int, sshd ...testbed.SSHDOptions) *bed {
	t.Helper()
	var so testbed.SSHDOptions
	if len(sshd) > 0 {
		so = sshd[0]
	}
	b := &bed{tb: testbed.New(t, testbed.Options{Prefix: "mssh", StopGrace: 2 * time.Second}), key: testbed.NewSSHKey(t)}
	b.site = b.tb.AddSite("a")
	for i := range n {
		h := b.tb.AddHost(b.site, "h"+string(rune('1'+i)))
		b.hosts = append(b.hosts, h)
		so.AuthorizedKeys = []string{b.key.Authorized}
		b.sshds = append(b.sshds, h.StartSSHD(so))
	}
	return b
}

// host is the i-th host's name in Options.Hosts (its address).
func (b *bed) host(i int) string { return b.hosts[i].Addr.String() }

// options are Options for every host of the bed, pinning their keys, with
// a fresh install directory (hosts share this machine's filesystem) unless
// one is given.
func (b *bed) options(t testing.TB, binary string, installDir ...string) Options {
	o := Options{PrivateKey: cloud.Secret(b.key.PrivatePEM), Binary: binary,
		StopGrace: 2 * time.Second, DialTimeout: 5 * time.Second}
	if len(installDir) > 0 {
		o.InstallDir = installDir[0]
	} else {
		o.InstallDir = filepath.Join(t.TempDir(), "install")
	}
	for i, s := range b.sshds {
		o.Hosts = append(o.Hosts, b.host(i))
		o.HostKeys = append(o.HostKeys, s.HostKey)
	}
	return o
}

// newCloud makes a Cloud and, at cleanup, deletes the machines on the
// bed's hosts under o.InstallDir (with the bed's own key and host keys,
// whatever o says).
func (b *bed) newCloud(t testing.TB, o Options) *Cloud {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := New(b.options(t, o.Binary, o.InstallDir))
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ms, err := admin.listAll(ctx)
		if err != nil {
			t.Errorf("cleanup: listing machines: %v", err)
		}
		for _, m := range ms {
			if err := admin.Delete(ctx, m.ID); err != nil {
				t.Errorf("cleanup: Delete(%s): %v", m.ID, err)
			}
		}
	})
	return c
}

// listAll lists the machines of every cluster.
func (c *Cloud) listAll(ctx context.Context) ([]cloud.Machine, error) {
	var out []cloud.Machine
	for _, h := range c.opts.Hosts {
		cn, err := c.dial(ctx, "list", h)
		if err != nil {
			return out, err
		}
		sts, err := c.status(ctx, cn, "list")
		cn.Close()
		if err != nil {
			return out, err
		}
		for _, s := range sts {
			out = append(out, s.machine(cn.t))
		}
	}
	return out, nil
}

// standIn writes an agent stand-in: it copies the join token from the file
// it was given to token-seen in its data dir (so a test sees it could read
// it) and its umask to umask there, says so, then runs script (default:
// sleep).
func standIn(t testing.TB, script string) string {
	t.Helper()
	if script == "" {
		script = "exec sleep 600"
	}
	p := filepath.Join(t.TempDir(), "maestro-stand-in")
	body := `#!/bin/sh
if [ "$1" = node-cleanup ]; then exit 0; fi # what Delete runs after stopping the agent
tokf= data=
while [ $# -gt 0 ]; do
	case $1 in
	--join-token-file) tokf=$2; shift ;;
	--data-dir) data=$2; shift ;;
	esac
	shift
done
cat "$tokf" > "$data/token-seen"
umask > "$data/umask"
echo "stand-in agent: started"
` + script + "\n"
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostFor is the conformance suite's host choice: a fixed host per
// idempotency key, so one subtest's machines never share a host.
func (b *bed) hostFor(key string) string {
	fixed := map[string]int{"key-m1": 0, "key-m2": 1, "key-a1": 0, "key-a2": 1, "key-b1": 2, "key-x1": 3}
	if i, ok := fixed[key]; ok && i < len(b.hosts) {
		return b.host(i)
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return b.host(int(h.Sum32() % uint32(len(b.hosts))))
}

func TestConformance(t *testing.T) {
	b := newBed(t, 4)
	bin := standIn(t, "")
	cloudtest.RunWithOptions(t, cloudtest.Options{Prepare: func(r *cloud.MachineRequest) { r.Host = b.hostFor(r.IdempotencyKey) }},
		func(t *testing.T) cloud.Cloud { return b.newCloud(t, b.options(t, bin)) })
}

func mustCreate(t testing.TB, c *Cloud, name, host string) cloud.Machine {
	t.Helper()
	req := cloudtest.Request(name, "c1", "p1")
	req.Host = host
	m, err := c.Create(t.Context(), req)
	if err != nil {
		t.Fatalf("Create(%s on %s): %v", name, host, err)
	}
	return m
}

// machineDir is where machine m's files are (on every host: they share
// this machine's filesystem).
func (c *Cloud) machineDirOf(t testing.TB, id string) string {
	t.Helper()
	dir, _, ok := parseID(id)
	if !ok {
		t.Fatalf("machine ID %q: not this cloud's", id)
	}
	return c.layout.machineDir(dir)
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containsAny reports whether s contains any non-trivial line of secret.
func containsAny(s string, secret []byte) bool {
	for _, line := range strings.Split(string(secret), "\n") {
		if len(line) > 16 && strings.Contains(s, line) {
			return true
		}
	}
	return false
}

// maestroBinary is this checkout's maestro binary.
func maestroBinary(t testing.TB) string {
	t.Helper()
	return testenv.BuildBinary(t, "./cmd/maestro")
}
