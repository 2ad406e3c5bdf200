//go:build linux

package testbed

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// requireBed checks what New checks, for tests that set up state before
// calling it.
func requireBed(t *testing.T) {
	t.Helper()
	testreq.Root(t, "network namespaces for emulated hosts")
	if ipPath == "" {
		testreq.Missing(t, "iproute2's ip not found: apt-get install iproute2")
	}
}

func fakeRunName(t *testing.T, prefix string) string {
	t.Helper()
	var b [runIDLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// fakeRun makes the state of a run by hand: its directory owned by this
// process (unless withDir is false), a host namespace and the root uplink.
// markDead then gives it an owner that is gone: until then a sweep by a
// test running in parallel leaves it alone while the test builds it.
func fakeRun(t *testing.T, name string, withDir bool) (hostNS string, markDead func(pid int, start uint64)) {
	t.Helper()
	ctx := context.Background()
	hostNS = name + "-host-x"
	t.Cleanup(func() { _ = removeRun(context.Background(), name, &dockerSweeper{}) })
	dir := filepath.Join(StateDir, name)
	setOwner := func(pid int, start uint64) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, ownerFile), fmt.Appendf(nil, "%d %d\n", pid, start), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if withDir {
		self, err := processStart(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		setOwner(os.Getpid(), self)
	}
	if err := ipAll(ctx,
		[]string{"netns", "add", hostNS},
		[]string{"link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", hostNS},
	); err != nil {
		t.Fatal(err)
	}
	return hostNS, setOwner
}

// deadPid is the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func hasNamespace(t *testing.T, name string) bool {
	t.Helper()
	nss, err := namespaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(nss, name)
}

func hasRootLink(t *testing.T, name string) bool {
	t.Helper()
	ls, err := links(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ls, func(l link) bool { return l.Name == name })
}

func TestSweepRemovesDeadRunsOnly(t *testing.T) {
	requireBed(t)
	const prefix = "mtbsweep"
	self, err := processStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	dead, live, orphan := fakeRunName(t, prefix), fakeRunName(t, prefix), fakeRunName(t, prefix)
	deadNS, markDead := fakeRun(t, dead, true)
	liveNS, _ := fakeRun(t, live, true)
	reused := fakeRunName(t, "other")
	reusedNS, markReused := fakeRun(t, reused, true)
	orphanNS, _ := fakeRun(t, orphan, false)

	// A process inside the dead run's host, as an agent's would be.
	sleeper := exec.Command(ipPath, "netns", "exec", deadNS, "sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })
	if !waitFor(5*time.Second, func() bool {
		out, err := ip(context.Background(), "netns", "pids", deadNS)
		return err == nil && slices.Contains(strings.Fields(string(out)), strconv.Itoa(sleeper.Process.Pid))
	}) {
		t.Fatal("the process never entered the dead run's host")
	}
	markDead(deadPid(t), 12345)
	// The same pid with another start time is a reused pid: dead.
	markReused(os.Getpid(), self+1)

	New(t, Options{Prefix: prefix})

	for _, gone := range []struct{ run, ns string }{{dead, deadNS}, {reused, reusedNS}, {orphan, orphanNS}} {
		if hasNamespace(t, gone.ns) {
			t.Errorf("namespace %s of dead run %s survived the sweep", gone.ns, gone.run)
		}
		if hasRootLink(t, gone.run) {
			t.Errorf("uplink %s of dead run %s survived the sweep", gone.run, gone.run)
		}
		if _, err := os.Stat(filepath.Join(StateDir, gone.run)); !os.IsNotExist(err) {
			t.Errorf("state of dead run %s survived the sweep (%v)", gone.run, err)
		}
	}
	select {
	case err := <-exited:
		if ws, ok := sleeper.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("the process in the dead run ended with %v, want SIGKILL from the sweep", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the process inside the dead run's host survived the sweep")
	}
	if !hasNamespace(t, liveNS) || !hasRootLink(t, live) {
		t.Errorf("the sweep removed parts of live run %s (namespace kept: %v, uplink kept: %v)",
			live, hasNamespace(t, liveNS), hasRootLink(t, live))
	}
	if _, err := os.Stat(filepath.Join(StateDir, live, ownerFile)); err != nil {
		t.Errorf("the sweep removed the state of live run %s: %v", live, err)
	}
}

func TestSweepRemovesContainersOfDeadRuns(t *testing.T) {
	requireBed(t)
	cli := testenv.RequireDocker(t)
	image := testenv.PauseImage(t)
	const prefix = "mtbsweep"
	dead, live := fakeRunName(t, prefix), fakeRunName(t, prefix)
	_, markDead := fakeRun(t, dead, true)
	fakeRun(t, live, true)
	ctx := context.Background()
	create := func(node string) string {
		t.Helper()
		c, err := cli.ContainerCreate(ctx, &container.Config{Image: image,
			Labels: map[string]string{runtime.LabelNode: node, runtime.LabelManaged: "true"}},
			&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
		if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	deadID, liveID := create(dead+"-h1"), create(live+"-h1")
	markDead(deadPid(t), 1)

	New(t, Options{Prefix: prefix})

	if _, err := cli.ContainerInspect(ctx, deadID); err == nil {
		t.Errorf("container %s of dead run %s survived the sweep", deadID[:12], dead)
	}
	if _, err := cli.ContainerInspect(ctx, liveID); err != nil {
		t.Errorf("container %s of live run %s: %v (the sweep removed it)", liveID[:12], live, err)
	}
}

// TestHelperProcess is not a test: TestKilledRunIsSweptAtTheNextStart
// runs the test binary again with TESTBED_HELPER set to build a test bed
// in a process it then kills. Without the variable it returns at once.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("TESTBED_HELPER") != "killed-run" {
		return
	}
	tb := New(t, Options{})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	p, err := h.Start(context.Background(), "sleep", []string{"sleep", "600"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A process not started by the test bed (as the process runtime's
	// shims, which leave their parent's session).
	out, err := h.Exec(context.Background(), "sh", "-c", "setsid sleep 600 >/dev/null 2>&1 & echo $!")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY run=%s started=%d detached=%s\n", tb.Run(), p.Pid(), strings.TrimSpace(out))
	select {}
}

// gone reports whether pid has exited (a zombie waiting for a reaper
// counts: it runs no more).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
}

func TestKilledRunIsSweptAtTheNextStart(t *testing.T) {
	requireBed(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTBED_HELPER=killed-run")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var run string
	var started, detached int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "READY run=%s started=%d detached=%d", &run, &started, &detached); err == nil {
			break
		}
		t.Log("helper: ", sc.Text())
	}
	if run == "" {
		t.Fatalf("the helper process never got ready: %v", sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if !waitFor(5*time.Second, func() bool { return gone(started) }) {
		t.Errorf("process %d, started by the killed run, outlived it (no parent-death signal?)", started)
	}
	// A test bed started meanwhile by a test running in parallel may have
	// swept the run already; the checks below hold either way.
	if gone(detached) || !hasNamespace(t, run+"-host-h1") {
		t.Logf("the killed run %s was swept before this test's New (by a test bed started in parallel?)", run)
	}

	New(t, Options{})

	nss, err := namespaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if strings.HasPrefix(ns, run+"-") {
			t.Errorf("namespace %s of the killed run survived the next start", ns)
		}
	}
	if hasRootLink(t, run) {
		t.Errorf("uplink %s of the killed run survived the next start", run)
	}
	if !waitFor(5*time.Second, func() bool { return gone(detached) }) {
		t.Errorf("process %d inside the killed run's host survived the next start", detached)
	}
	for _, dir := range []string{filepath.Join(StateDir, run), dataDir(run)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s of the killed run survived the next start (%v)", dir, err)
		}
	}
}

func TestRootNamespaceUnchangedAfterCleanup(t *testing.T) {
	requireBed(t)
	ctx := context.Background()
	before := hostRoutes(t)
	var run string
	var subnets []netip.Prefix
	t.Run("bed", func(t *testing.T) {
		tb := New(t, Options{})
		a, b := tb.AddSite("a"), tb.AddSite("b")
		tb.AddHost(a, "h1")
		tb.AddHost(b, "h2")
		run, subnets = tb.Run(), []netip.Prefix{a.Subnet, b.Subnet}
		if !hasRootLink(t, run) {
			t.Errorf("no uplink %s in the root namespace during the test", run)
		}
		if got := testbedRoutes(t, run, subnets); len(got) != 2 {
			t.Errorf("root routes to the sites during the test: %v, want one per site", got)
		}
	})
	if hasRootLink(t, run) {
		t.Errorf("uplink %s left in the root namespace", run)
	}
	if got := testbedRoutes(t, run, subnets); len(got) != 0 {
		t.Errorf("routes left in the root namespace: %v", got)
	}
	nss, err := namespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if strings.HasPrefix(ns, run+"-") {
			t.Errorf("namespace %s left", ns)
		}
	}
	for _, dir := range []string{filepath.Join(StateDir, run), dataDir(run)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s of run %s left (%v)", dir, run, err)
		}
	}
	if after := hostRoutes(t); !slices.Equal(before, after) {
		t.Errorf("the machine's own routes changed:\nbefore %v\nafter  %v", before, after)
	}
}

// testbedRoutes are the root namespace's main-table routes through the
// run's uplink or to its subnets.
func testbedRoutes(t *testing.T, run string, subnets []netip.Prefix) []string {
	t.Helper()
	rs, err := routes(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		p, err := r.prefix()
		if r.Table != "" || err != nil {
			continue
		}
		if r.Dev == run || (p.Bits() > 0 && overlapsAny(p, subnets)) {
			out = append(out, r.Dst+" dev "+r.Dev)
		}
	}
	return out
}

// otherTestsDevice: a device other test packages running at the same
// time make and remove in the root namespace: Docker's networks (br-,
// veth), a maestro node's pod bridge (mst, network.BridgeName; mstt- test
// namespaces' ends) and a local node pool's bridge (mlb).
func otherTestsDevice(dev string) bool {
	for _, p := range []string{"br-", "veth", "mst", "mlb"} {
		if strings.HasPrefix(dev, p) {
			return true
		}
	}
	return false
}

// hostRoutes are the root namespace's main-table routes on devices other
// tests do not churn (otherTestsDevice, not test beds').
func hostRoutes(t *testing.T) []string {
	t.Helper()
	rs, err := routes(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Table != "" || otherTestsDevice(r.Dev) || runPattern(DefaultPrefix).MatchString(r.Dev) {
			continue
		}
		out = append(out, r.Dst+" via "+r.Gateway+" dev "+r.Dev+" "+strconv.Quote(r.Type))
	}
	slices.Sort(out)
	return out
}
