//go:build linux

package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testbed"
)

// TestHostAccess: a wrong key or an unpinned host key fails Create as
// ErrInvalid naming user@host:port and the SSH error, leaving nothing on
// the host; the pinning forms that match the host let it in.
func TestHostAccess(t *testing.T) {
	b := newBed(t, 1)
	bin := standIn(t, "")
	addr := b.host(0)
	other := testbed.NewSSHKey(t)
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   []string // in the error; none: Create succeeds
	}{
		{"wrong private key", func(o *Options) { o.PrivateKey = cloud.Secret(other.PrivatePEM) },
			[]string{"root@" + addr + ":22", "authentication failed", "unable to authenticate"}},
		{"host key not pinned", func(o *Options) { o.HostKeys = []string{other.Authorized} },
			[]string{"root@" + addr + ":22", "host key mismatch", "ssh-ed25519 SHA256:", "not among the pinned"}},
		{"known_hosts line of another host", func(o *Options) { o.HostKeys = []string{"10.9.9.9 " + b.sshds[0].HostKey} },
			[]string{"root@" + addr + ":22", "host key mismatch"}},
		{"known_hosts line with another key", func(o *Options) { o.HostKeys = []string{addr + " " + other.Authorized} },
			[]string{"root@" + addr + ":22", "host key mismatch", "not the key pinned for it"}},
		{"known_hosts line of the host", func(o *Options) { o.HostKeys = []string{addr + " " + b.sshds[0].HostKey} }, nil},
		{"hashed known_hosts line", func(o *Options) {
			o.HostKeys = []string{knownhosts.HashHostname(addr) + " " + b.sshds[0].HostKey}
		}, nil},
		{"insecure, said explicitly", func(o *Options) { o.HostKeys, o.InsecureIgnoreHostKey = nil, true }, nil},
		// The host has ed25519 and ECDSA keys; the handshake must ask for
		// the pinned kind, not the library's first choice.
		{"ECDSA key pinned", func(o *Options) { o.HostKeys = []string{b.sshds[0].HostKeys[1]} }, nil},
		{"ECDSA key pinned for the host", func(o *Options) { o.HostKeys = []string{addr + " " + b.sshds[0].HostKeys[1]} }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := b.options(t, bin)
			tc.mutate(&o)
			var logs bytes.Buffer
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := b.newCloud(t, o)
			req := cloudtest.Request("m1", "c1", "p1")
			req.Host = addr
			m, err := c.Create(t.Context(), req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if err := c.Delete(t.Context(), m.ID); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, cloud.ErrInvalid) || cloud.IsRetryable(err) {
				t.Fatalf("Create: err = %v, want ErrInvalid (not retryable)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, key := range [][]byte{b.key.PrivatePEM, other.PrivatePEM} {
				if containsAny(err.Error(), key) || containsAny(logs.String(), key) {
					t.Errorf("the private key shows in the error or the log:\n%v\n%s", err, logs.String())
				}
			}
			if _, err := os.Stat(o.InstallDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused Create touched the host: %s exists (%v)", o.InstallDir, err)
			}
		})
	}
}

// TestUnreachableHost: a host that does not answer (no host at the
// address; a host whose link is cut) fails Create within the dial timeout,
// ErrTransient naming the host; List still returns the machines of the
// hosts it reached, with an error naming the one it did not.
func TestUnreachableHost(t *testing.T) {
	b := newBed(t, 2)
	bin := standIn(t, "")
	const dialTimeout = time.Second
	nobody := netip.AddrFrom4(b.site.Subnet.Addr().As4()).As4()
	nobody[3] = 200 // in the site's subnet, no host there
	absent := netip.AddrFrom4(nobody).String()
	o := b.options(t, bin)
	o.Hosts = append(o.Hosts, absent)
	o.DialTimeout = dialTimeout
	c := b.newCloud(t, o)
	kept := mustCreate(t, c, "kept", b.host(0))
	if err := b.hosts[1].CutLink(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.hosts[1].RestoreLink(context.Background()) })
	for _, tc := range []struct{ name, host string }{
		{"no host at the address", absent},
		{"link cut", b.host(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := cloudtest.Request("m1", "c1", "p1")
			req.Host = tc.host
			start := time.Now()
			_, err := c.Create(t.Context(), req)
			took := time.Since(start)
			if !errors.Is(err, cloud.ErrTransient) || !cloud.IsRetryable(err) {
				t.Fatalf("Create on %s: err = %v, want ErrTransient", tc.host, err)
			}
			for _, w := range []string{"root@" + tc.host + ":22", "unreachable"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if took > dialTimeout+time.Second {
				t.Errorf("Create took %v, want about the dial timeout %v", took, dialTimeout)
			}
		})
	}
	ms, err := c.List(t.Context(), cloud.Filter{Cluster: "c1"})
	if !errors.Is(err, cloud.ErrTransient) || !strings.Contains(err.Error(), "root@"+b.host(1)+":22") ||
		!strings.Contains(err.Error(), "root@"+absent+":22") || !strings.Contains(err.Error(), "2 of 3 hosts") {
		t.Errorf("List with two hosts unreachable: err = %v, want ErrTransient naming both", err)
	}
	if len(ms) != 1 || ms[0].ID != kept.ID {
		t.Errorf("List with two hosts unreachable = %+v, want the reachable host's machine %s", ms, kept.ID)
	}
}

// TestBinaryUploadedOnce installs the real maestro binary: uploaded on the
// first Create, skipped when the host has it (same checksum), uploaded
// again when the host's copy differs. The agent that runs is that binary,
// restarted by its supervisor when it exits.
func TestBinaryUploadedOnce(t *testing.T) {
	b := newBed(t, 3)
	bin := maestroBinary(t)
	var logs bytes.Buffer
	o := b.options(t, bin)
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	c := b.newCloud(t, o)
	installed := c.layout.binary(c.binSum)
	uploads := func() int { return strings.Count(logs.String(), "binary uploaded") }

	m1 := mustCreate(t, c, "m1", b.host(0))
	st1, err := os.Stat(installed)
	if err != nil || uploads() != 1 {
		t.Fatalf("after the first Create: %s: %v; %d uploads logged, want 1", installed, err, uploads())
	}
	// Hosts share this machine's filesystem: the second host finds the
	// binary the first one got, as a host that had it already would.
	mustCreate(t, c, "m2", b.host(1))
	st2, err := os.Stat(installed)
	if err != nil || uploads() != 1 || !os.SameFile(st1, st2) || !st2.ModTime().Equal(st1.ModTime()) {
		t.Fatalf("second Create with the binary in place: %d uploads, same file %v (%v)", uploads(), err == nil && os.SameFile(st1, st2), err)
	}
	// Another file at that name (replaced, not rewritten: the running
	// agents hold it busy).
	if err := os.WriteFile(installed+".other", []byte("#!/bin/sh\necho not maestro\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(installed+".other", installed); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "m3", b.host(2))
	if sum, err := fileSHA256(installed); err != nil || sum != c.binSum || uploads() != 2 {
		t.Fatalf("Create over a corrupted binary: sha256 %s (%v), %d uploads; want %s and 2", sum, err, uploads(), c.binSum)
	}
	var agentLog string
	waitFor(t, "the agent's first log lines", 20*time.Second, func() bool {
		agentLog, err = c.Logs(t.Context(), m1.ID, 20)
		// The suite's CA is no certificate: the real agent says so and
		// exits, and its supervisor starts it again.
		return err == nil && strings.Contains(agentLog, "certificateAuthorityData: no PEM certificate found") &&
			strings.Contains(agentLog, "agent exited with status 1; restarting")
	})
}

// TestDeleteLeavesNothing: Delete stops the agent's whole process group
// (SIGKILL after the grace for one ignoring SIGTERM) and removes the
// machine's files and claim; the binary stays while another machine
// uses it, and the install dir goes with the last machine.
func TestDeleteLeavesNothing(t *testing.T) {
	b := newBed(t, 2)
	for _, tc := range []struct {
		name, script string
		minTook      time.Duration
	}{
		{"agent ends on SIGTERM", "exec sleep 600", 0},
		{"agent ignores SIGTERM", "trap '' TERM; exec sleep 600", 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := b.options(t, standIn(t, tc.script))
			o.StopGrace = 500 * time.Millisecond
			c := b.newCloud(t, o)
			m1 := mustCreate(t, c, "m1", b.host(0))
			m2 := mustCreate(t, c, "m2", b.host(1))
			if n := len(hostPids(t, b.hosts[0])); n < 2 {
				t.Fatalf("no agent process in host h1 after Create (%d processes)", n)
			}
			start := time.Now()
			if err := c.Delete(t.Context(), m1.ID); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < tc.minTook {
				t.Errorf("Delete took %v: killed before the grace", took)
			}
			b.waitOnlySSHD(t, 0)
			for _, p := range []string{c.machineDirOf(t, m1.ID), c.layout.claim(b.host(0))} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after Delete: %s still exists (%v)", p, err)
				}
			}
			if _, err := os.Stat(c.layout.binary(c.binSum)); err != nil {
				t.Errorf("Delete removed the binary machine %s still uses: %v", m2.ID, err)
			}
			if got, err := c.Get(t.Context(), m2.ID); err != nil || got.State != cloud.StateRunning {
				t.Errorf("the other machine after Delete: %+v, %v", got, err)
			}
			if err := c.Delete(t.Context(), m2.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(o.InstallDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after the last Delete the install dir %s is left (%v)", o.InstallDir, err)
			}
			if err := c.Delete(t.Context(), m2.ID); err != nil {
				t.Errorf("Delete again: %v, want nil", err)
			}
		})
	}
}

// waitOnlySSHD waits until host i runs nothing but its sshd listener.
func (b *bed) waitOnlySSHD(t testing.TB, i int) {
	t.Helper()
	want := []int{b.sshds[i].Pid()}
	var got []int
	deadline := time.Now().Add(5 * time.Second)
	for got = hostPids(t, b.hosts[i]); !slices.Equal(got, want); got = hostPids(t, b.hosts[i]) {
		if time.Now().After(deadline) {
			for _, p := range got {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
				t.Logf("process %d in host %s: %q", p, b.hosts[i].Name, cmd)
			}
			t.Fatalf("host %s runs %v, want only its sshd %v", b.hosts[i].Name, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hostPids are the processes in host h, sorted.
func hostPids(t testing.TB, h *testbed.Host) []int {
	t.Helper()
	pids, err := h.Pids(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	return pids
}

// TestTokenOnlyInA0600File: the join token reaches the agent in a 0600
// file only: never on a command line of any process of the host, in the
// machine's other files, or in the cloud's log. The agent's log is private
// too, the agent itself runs with the usual umask.
func TestTokenOnlyInA0600File(t *testing.T) {
	b := newBed(t, 1)
	var logs bytes.Buffer
	o := b.options(t, standIn(t, ""))
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := b.newCloud(t, o)
	m := mustCreate(t, c, "m1", b.host(0))
	dir := c.machineDirOf(t, m.ID)
	st, err := os.Stat(filepath.Join(dir, "join-token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("join-token: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	waitFor(t, "the agent to read the token", 10*time.Second, func() bool {
		seen, _ := os.ReadFile(filepath.Join(dir, "data", "token-seen"))
		return string(seen) == cloudtest.Token
	})
	if st, err := os.Stat(filepath.Join(dir, "agent.log")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("agent.log: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	if umask, _ := os.ReadFile(filepath.Join(dir, "data", "umask")); strings.TrimSpace(string(umask)) != "0022" {
		t.Errorf("the agent runs with umask %q, want 0022 (the files it makes for pods are not private)", umask)
	}
	for _, pid := range hostPids(t, b.hosts[0]) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte(cloudtest.Token)) {
			t.Errorf("process %d has the token on its command line: %q", pid, cmdline)
		}
	}
	for _, f := range []string{"machine.json", "run.sh", "agent.log", "ca.crt"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(b, []byte(cloudtest.Token)) {
			t.Errorf("%s holds the token", f)
		}
	}
	if strings.Contains(logs.String(), cloudtest.Token) || containsAny(logs.String(), b.key.PrivatePEM) {
		t.Errorf("the cloud's log shows the token or the key:\n%s", logs.String())
	}
}

// TestCreateRejects: requests the host set cannot take fail before or
// without touching a host, naming the host.
func TestCreateRejects(t *testing.T) {
	b := newBed(t, 1)
	c := b.newCloud(t, b.options(t, standIn(t, "")))
	m := mustCreate(t, c, "m1", b.host(0))
	for _, tc := range []struct {
		name, host string
		kind       error
		want       []string
	}{
		{"no host", "", cloud.ErrInvalid, []string{"host: required", b.host(0)}},
		{"host not in the pool", "10.9.9.9", cloud.ErrInvalid, []string{`host "10.9.9.9"`, "not one of the pool's hosts"}},
		{"host already a machine", b.host(0), cloud.ErrCapacity, []string{"root@" + b.host(0) + ":22", m.ID, "one machine per host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := cloudtest.Request("m2", "c1", "p1")
			req.Host = tc.host
			_, err := c.Create(t.Context(), req)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Create: err = %v, want %v", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	foreign := "m9-00000000@10.9.9.9"
	if _, err := c.Get(t.Context(), foreign); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "10.9.9.9") {
		t.Errorf("Get of a machine on a host not in the pool: %v, want ErrInvalid naming the host", err)
	}
	if err := c.Delete(t.Context(), foreign); !errors.Is(err, cloud.ErrInvalid) {
		t.Errorf("Delete of a machine on a host not in the pool: %v, want ErrInvalid", err)
	}
}

// TestLogs: Logs returns the last lines of the agent's output, and
// ErrNotFound once the machine is deleted.
func TestLogs(t *testing.T) {
	b := newBed(t, 1)
	c := b.newCloud(t, b.options(t, standIn(t, `for i in 1 2 3 4 5; do echo "line $i"; done; exec sleep 600`)))
	m := mustCreate(t, c, "m1", b.host(0))
	var got string
	waitFor(t, "the agent's output", 10*time.Second, func() bool {
		var err error
		got, err = c.Logs(t.Context(), m.ID, 2)
		return err == nil && strings.Contains(got, "line 5")
	})
	if got != "line 4\nline 5\n" {
		t.Errorf("Logs(2) = %q, want the last two lines", got)
	}
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logs(t.Context(), m.ID, 2); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs after Delete: %v, want ErrNotFound", err)
	}
}

// TestIdempotentAcrossClouds races Creates with one key from separate
// Clouds (as separate processes would: no shared mutex), so only the
// host's exclusive claim keeps it to one machine; a racing Create with
// another key finds the host taken.
func TestIdempotentAcrossClouds(t *testing.T) {
	b := newBed(t, 1)
	o := b.options(t, standIn(t, ""))
	const n = 4
	clouds := make([]*Cloud, n)
	for i := range clouds {
		clouds[i] = b.newCloud(t, o)
	}
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range clouds {
		wg.Go(func() {
			req := cloudtest.Request("m1", "c1", "p1")
			req.Host = b.host(0)
			m, err := c.Create(t.Context(), req)
			ids[i], errs[i] = m.ID, err
		})
	}
	wg.Wait()
	var id string
	for i := range n {
		// A loser may find the winner's claim before its record: that is
		// ErrTransient (retry), never a second machine.
		switch {
		case errs[i] != nil && !errors.Is(errs[i], cloud.ErrTransient):
			t.Fatalf("Create %d: %v, want success or ErrTransient", i, errs[i])
		case errs[i] != nil:
		case id == "":
			id = ids[i]
		case ids[i] != id:
			t.Fatalf("racing Creates with one key made machines %s and %s", id, ids[i])
		}
	}
	ms, err := clouds[0].List(t.Context(), cloud.Filter{Cluster: "c1"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("List = %+v, %v; want one machine", ms, err)
	}
	if entries, _ := os.ReadDir(clouds[0].layout.machines()); len(entries) != 1 {
		t.Fatalf("%d machine directories, want 1 (losers must leave nothing)", len(entries))
	}
	req := cloudtest.Request("m1", "c1", "p1")
	req.Host = b.host(0)
	if m, err := clouds[1].Create(t.Context(), req); err != nil || m.ID != ms[0].ID {
		t.Fatalf("Create again after the race: %s, %v; want %s", m.ID, err, ms[0].ID)
	}
}

// TestCrashedCreate: a claim whose Create died before recording the
// machine blocks the host only for a while; a record whose agent never
// started is pending, then terminated, and Delete removes it.
func TestCrashedCreate(t *testing.T) {
	b := newBed(t, 1)
	o := b.options(t, standIn(t, ""))
	c := b.newCloud(t, o)
	claim := c.layout.claim(b.host(0))
	if err := os.MkdirAll(filepath.Dir(claim), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(claim, []byte("m0-00000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	req := cloudtest.Request("m1", "c1", "p1")
	req.Host = b.host(0)
	if _, err := c.Create(t.Context(), req); !errors.Is(err, cloud.ErrTransient) || !strings.Contains(err.Error(), "m0-00000000") {
		t.Fatalf("Create on a host claimed a moment ago: %v, want ErrTransient naming the claim", err)
	}
	old := time.Now().Add(-2 * pendingTimeout)
	if err := os.Chtimes(claim, old, old); err != nil {
		t.Fatal(err)
	}
	m, err := c.Create(t.Context(), req)
	if err != nil {
		t.Fatalf("Create once the dead claim is old: %v", err)
	}
	// Make the record look like a Create that died before starting it.
	dir := c.machineDirOf(t, m.ID)
	pid, _ := os.ReadFile(filepath.Join(dir, "agent.pid"))
	var p int
	fmt.Sscan(string(pid), &p)
	if err := syscall.Kill(-p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "agent.pid")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(t.Context(), m.ID); err != nil || got.State != cloud.StatePending {
		t.Errorf("recorded, never started: %+v, %v; want pending", got, err)
	}
	rec, _ := os.ReadFile(filepath.Join(dir, "machine.json"))
	created := m.CreatedAt.Format(time.RFC3339Nano)
	rec = bytes.Replace(rec, []byte(created), []byte(m.CreatedAt.Add(-2*pendingTimeout).Format(time.RFC3339Nano)), 1)
	if err := os.WriteFile(filepath.Join(dir, "machine.json"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(t.Context(), m.ID); err != nil || got.State != cloud.StateTerminated {
		t.Errorf("recorded long ago, never started: %+v, %v; want terminated", got, err)
	}
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o.InstallDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Delete: %s left (%v)", o.InstallDir, err)
	}
}
