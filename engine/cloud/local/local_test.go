package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// standIn is an agent stand-in: it copies the join token it was given (by
// file) into its data dir, so tests see that it could read it, then sleeps.
func standIn(script string) func(Spec) []string {
	return func(s Spec) []string {
		return []string{"/bin/sh", "-c", `cat "$MAESTRO_JOIN_TOKEN_FILE" > data/token-seen; ` + script}
	}
}

func newCloud(t *testing.T, root string, script string, grace time.Duration) *Cloud {
	t.Helper()
	c, err := New(Options{Root: root, Command: standIn(script), StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteAll(t, c) })
	return c
}

// deleteAll stops every machine under c's root, so no test leaves a process.
func deleteAll(t *testing.T, c *Cloud) {
	entries, _ := os.ReadDir(filepath.Join(c.opts.Root, "machines"))
	for _, e := range entries {
		if err := c.Delete(context.Background(), e.Name()); err != nil {
			t.Errorf("cleanup: Delete(%s): %v", e.Name(), err)
		}
	}
}

func TestConformance(t *testing.T) {
	cloudtest.Run(t, func(t *testing.T) cloud.Cloud {
		return newCloud(t, t.TempDir(), "exec sleep 120", 2*time.Second)
	})
}

func mustCreate(t *testing.T, c *Cloud, name string) (cloud.Machine, record) {
	t.Helper()
	m, err := c.Create(t.Context(), cloudtest.Request(name, "c1", "p1"))
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	r, err := c.load("test", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTokenOnlyInA0600File(t *testing.T) {
	c := newCloud(t, t.TempDir(), "exec sleep 120", time.Second)
	m, r := mustCreate(t, c, "m1")
	dir := c.machineDir(m.ID)
	fi, err := os.Stat(filepath.Join(dir, "join-token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("join-token mode %v, want 0600", fi.Mode().Perm())
	}
	seen := filepath.Join(dir, "data", "token-seen")
	waitFor(t, "the process to read its token", func() bool {
		b, _ := os.ReadFile(seen)
		return string(b) == cloudtest.Token
	})
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(r.PID) + "/cmdline")
	if err != nil {
		t.Fatalf("reading the machine's command line: %v", err)
	}
	if strings.Contains(string(cmdline), cloudtest.Token) {
		t.Errorf("the join token is on the command line: %q", cmdline)
	}
	rec, _ := os.ReadFile(filepath.Join(dir, "machine.json"))
	if strings.Contains(string(rec), cloudtest.Token) {
		t.Errorf("machine.json holds the join token")
	}
}

func TestNewCloudOnSameRootSeesMachines(t *testing.T) {
	root := t.TempDir()
	first := newCloud(t, root, "exec sleep 120", time.Second)
	m, r := mustCreate(t, first, "m1")

	second := newCloud(t, root, "exec sleep 120", time.Second)
	got, err := second.Get(t.Context(), m.ID)
	if err != nil || got.State != cloud.StateRunning {
		t.Fatalf("new Cloud: Get(%s) = %+v, %v; want it running", m.ID, got, err)
	}
	ms, err := second.List(t.Context(), cloud.Filter{Cluster: "c1", Pool: "p1"})
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID {
		t.Fatalf("new Cloud: List = %+v, %v; want [%s]", ms, err, m.ID)
	}
	again, err := second.Create(t.Context(), cloudtest.Request("m1", "c1", "p1"))
	if err != nil || again.ID != m.ID {
		t.Fatalf("new Cloud: Create with the same key = %s, %v; want %s", again.ID, err, m.ID)
	}
	if err := second.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the process to be gone", func() bool { return !alive(r.PID, r.ProcessStart) })
	if _, err := first.Get(t.Context(), m.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("first Cloud after the second deleted: err = %v, want ErrNotFound", err)
	}
}

func TestDeadProcessIsTerminated(t *testing.T) {
	c := newCloud(t, t.TempDir(), "exec sleep 120", time.Second)
	m, r := mustCreate(t, c, "m1")
	if err := syscall.Kill(r.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "state terminated", func() bool {
		got, err := c.Get(t.Context(), m.ID)
		return err == nil && got.State == cloud.StateTerminated
	})
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatalf("Delete of a terminated machine: %v", err)
	}
	if _, err := os.Stat(c.machineDir(m.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("machine directory left after Delete: %v", err)
	}
}

func TestDeleteKillsAfterGrace(t *testing.T) {
	c := newCloud(t, t.TempDir(), `trap "" TERM; touch data/ready; exec sleep 120`, 300*time.Millisecond)
	m, r := mustCreate(t, c, "m1")
	waitFor(t, "the process to ignore SIGTERM", func() bool {
		_, err := os.Stat(filepath.Join(c.machineDir(m.ID), "data", "ready"))
		return err == nil
	})
	start := time.Now()
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if alive(r.PID, r.ProcessStart) {
		t.Fatal("process ignoring SIGTERM still runs after Delete")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Delete took %v: the SIGTERM-ignoring process was killed before the grace", d)
	}
}

func TestStartFailureLeavesNothing(t *testing.T) {
	root := t.TempDir()
	bad, err := New(Options{Root: root, Command: func(Spec) []string { return []string{filepath.Join(root, "no-such-binary")} }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Create(t.Context(), cloudtest.Request("m1", "c1", "p1"))
	if err == nil || !strings.Contains(err.Error(), "no-such-binary") || strings.Contains(err.Error(), cloudtest.Token) {
		t.Fatalf("Create with a missing binary: err = %v, want it named and no token", err)
	}
	if ms, _ := bad.List(t.Context(), cloud.Filter{Cluster: "c1"}); len(ms) != 0 {
		t.Fatalf("failed Create left machines: %+v", ms)
	}
	good := newCloud(t, root, "exec sleep 120", time.Second)
	if _, err := good.Create(t.Context(), cloudtest.Request("m1", "c1", "p1")); err != nil {
		t.Fatalf("Create with the same key after a failed one: %v", err)
	}
}

func TestAgentCommand(t *testing.T) {
	argv := AgentCommand("/usr/bin/maestro", "--runtime", "process")(Spec{
		Name: "m1", Pool: "p1", Zone: "zone-a", MachineType: "small", ServerURL: "https://10.0.0.1:6443",
		Labels: map[string]string{"example.com/x": "y"}, CAFile: "/r/ca.crt", TokenFile: "/r/join-token", DataDir: "/r/data",
	})
	want := []string{"/usr/bin/maestro", "agent", "--server", "https://10.0.0.1:6443", "--ca-file", "/r/ca.crt",
		"--join-token-file", "/r/join-token", "--node-name", "m1", "--data-dir", "/r/data",
		"--labels", "example.com/x=y,node.maestro.dev/instance-type=small,node.maestro.dev/pool=p1,topology.maestro.dev/zone=zone-a",
		"--runtime", "process"}
	if !slices.Equal(argv, want) {
		t.Errorf("AgentCommand =\n%q\nwant\n%q", argv, want)
	}
}

// TestIdempotentAcrossClouds races Creates with one key from separate Clouds
// on one root (as separate processes would: no shared mutex), so only the
// link(2) claim of the key keeps it to one machine.
func TestIdempotentAcrossClouds(t *testing.T) {
	root := t.TempDir()
	const n = 8
	clouds := make([]*Cloud, n)
	for i := range clouds {
		clouds[i] = newCloud(t, root, "exec sleep 120", time.Second)
	}
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range clouds {
		wg.Go(func() {
			m, err := c.Create(t.Context(), cloudtest.Request("m1", "c1", "p1"))
			ids[i], errs[i] = m.ID, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("Create %d: %s, %v; want machine %s", i, ids[i], errs[i], ids[0])
		}
	}
	if ms, err := clouds[0].List(t.Context(), cloud.Filter{Cluster: "c1"}); err != nil || len(ms) != 1 {
		t.Fatalf("List = %d machines, %v; want 1", len(ms), err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "machines")); len(entries) != 1 {
		t.Fatalf("%d machine directories left, want 1 (losers must clean up)", len(entries))
	}
}

// TestCrashedCreate: a record without a process (its Create crashed before
// starting it) is pending for a while, then terminated, and Delete removes it.
func TestCrashedCreate(t *testing.T) {
	c := newCloud(t, t.TempDir(), "exec sleep 120", time.Second)
	for _, tc := range []struct {
		age  time.Duration
		want cloud.State
	}{{time.Second, cloud.StatePending}, {2 * pendingTimeout, cloud.StateTerminated}} {
		r := record{ID: "m-" + strconv.Itoa(int(tc.age.Seconds())), Name: "m", Cluster: "c1", Pool: "p1",
			KeyHash: keyHash("k"), CreatedAt: time.Now().Add(-tc.age)}
		if err := os.MkdirAll(c.machineDir(r.ID), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := c.save(r); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Get(t.Context(), r.ID); err != nil || m.State != tc.want {
			t.Errorf("record %v old without a process: Get = %q, %v; want %q", tc.age, m.State, err, tc.want)
		}
		if err := c.Delete(t.Context(), r.ID); err != nil {
			t.Fatalf("Delete(%s): %v", r.ID, err)
		}
		if _, err := c.Get(t.Context(), r.ID); !errors.Is(err, cloud.ErrNotFound) {
			t.Errorf("after Delete: %v, want ErrNotFound", err)
		}
	}
}

func TestLogs(t *testing.T) {
	c := newCloud(t, t.TempDir(), `for i in 1 2 3 4 5; do echo "line $i"; done; exec sleep 120`, time.Second)
	m, _ := mustCreate(t, c, "m1")
	var got string
	waitFor(t, "the log's last lines", func() bool {
		var err error
		got, err = c.Logs(t.Context(), m.ID, 2)
		return err == nil && got == "line 4\nline 5"
	})
	if _, err := c.Logs(t.Context(), "no-such-machine", 2); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs of a missing machine: %v, want ErrNotFound", err)
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"a\nb\nc\n", 0, "a\nb\nc"},
		{"", 3, ""},
		{"only", 1, "only"},
	} {
		if got := string(LastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestUninstall: Delete runs Options.Uninstall once the process is gone;
// an Uninstall error keeps the machine, and the next Delete tries again.
func TestUninstall(t *testing.T) {
	var calls []string
	fail := true
	c, err := New(Options{Root: t.TempDir(), Command: standIn("exec sleep 120"), StopGrace: time.Second,
		Uninstall: func(_ context.Context, m cloud.Machine) error {
			calls = append(calls, m.Name+"/"+m.Cluster)
			if fail {
				return errors.New("bridge busy")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fail = false; deleteAll(t, c) })
	m, r := mustCreate(t, c, "m1")
	if err := c.Delete(t.Context(), m.ID); err == nil || !errors.Is(err, cloud.ErrTransient) || !strings.Contains(err.Error(), "bridge busy") {
		t.Fatalf("Delete with a failing Uninstall: %v, want a transient error saying why", err)
	}
	if alive(r.PID, r.ProcessStart) {
		t.Fatal("the process runs after Delete")
	}
	if _, err := c.Get(t.Context(), m.ID); err != nil {
		t.Fatalf("the machine went although Uninstall failed: %v", err)
	}
	fail = false
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), m.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("after the second Delete: %v, want ErrNotFound", err)
	}
	if !slices.Equal(calls, []string{"m1/c1", "m1/c1"}) {
		t.Fatalf("Uninstall calls %v, want two for m1 of c1", calls)
	}
}
