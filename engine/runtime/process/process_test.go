//go:build linux

package process_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/process"
	"github.com/maestro-dev/maestro/engine/runtime/runtimetest"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// env is a process runtime setup shared by a test's runtimes: one root,
// one cgroup parent, the test program.
type env struct {
	root, cgroupParent string
	net                *network.Node // nil when not root: pods on the host network
	caps               runtimetest.Capabilities
	cgroups            bool
}

func newEnv(t *testing.T) *env {
	e := &env{
		root:         t.TempDir(),
		cgroupParent: "maestro-test-" + strconv.Itoa(os.Getpid()),
		caps:         runtimetest.Capabilities{Program: runtimetest.BuildProgram(t, "testprog")},
	}
	t.Cleanup(func() {
		// The parent cgroups are made by New; the containers' are gone.
		for _, d := range []string{"cpu", "memory", ""} {
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", d, e.cgroupParent, "shims"))
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", d, e.cgroupParent))
		}
	})
	if os.Geteuid() == 0 {
		e.net = runtimetest.NewPodNetwork(t, strconv.Itoa(os.Getpid()))
		e.caps.Network = e.net
	}
	e.cgroups = e.newProcessRuntime(t).CgroupsEnabled()
	e.caps.MemoryLimits = e.cgroups
	return e
}

func (e *env) newProcessRuntime(t *testing.T) *process.Runtime {
	r, err := process.New(process.Options{Root: e.root, NodeIP: "127.0.0.1", CgroupParent: e.cgroupParent})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newRuntime is the runtime with its pods on the env's pod network (as
// root), as the agent runs it.
func (e *env) newRuntime(t *testing.T) runtime.Runtime {
	if e.net == nil {
		return e.newProcessRuntime(t)
	}
	return network.WrapRuntime(e.newProcessRuntime(t), e.net)
}

func TestProcess(t *testing.T) {
	e := newEnv(t)
	runtimetest.Run(t, e.newRuntime, e.caps)
	t.Run("Rejected", func(t *testing.T) { t.Parallel(); testRejected(t, e) })
	t.Run("ExitRecordedWithoutAgent", func(t *testing.T) { t.Parallel(); testExitWithoutAgent(t, e) })
	t.Run("PidReuse", func(t *testing.T) { t.Parallel(); testPidReuse(t, e) })
	t.Run("Cgroups", func(t *testing.T) { t.Parallel(); testCgroups(t, e) })
	t.Run("HostNetwork", func(t *testing.T) { t.Parallel(); testHostNetwork(t, e) })
}

// Host-network pods, and every pod with HostNetworkOnly (what a runtime
// not running as root does), have the node's address and no namespace.
func testHostNetwork(t *testing.T, e *env) {
	onHost := func(c *runtime.SandboxConfig) { c.HostNetwork = true }
	if sb := runtimetest.StartPod(t, e.newRuntime(t), e.caps, onHost); sb.IP != "127.0.0.1" || sb.NetNS != "" {
		t.Errorf("host-network sandbox: IP %q, netns %q; want the node's address and none", sb.IP, sb.NetNS)
	}
	r, err := process.New(process.Options{Root: t.TempDir(), NodeIP: "127.0.0.1", HostNetworkOnly: true, CgroupParent: e.cgroupParent})
	if err != nil {
		t.Fatal(err)
	}
	if sb := runtimetest.StartPod(t, r, e.caps, nil); sb.IP != "127.0.0.1" || sb.NetNS != "" {
		t.Errorf("HostNetworkOnly sandbox: IP %q, netns %q; want the node's address and none", sb.IP, sb.NetNS)
	}
}

func testRejected(t *testing.T, e *env) {
	r := e.newRuntime(t)
	sb := runtimetest.StartPod(t, r, e.caps, nil)
	for name, tc := range map[string]struct {
		edit func(*runtime.ContainerConfig)
		want string
	}{
		"mounts":     {func(c *runtime.ContainerConfig) { c.Mounts = []runtime.Mount{{HostPath: "/tmp", ContainerPath: "/x"}} }, "process runtime: volume mounts are not supported; use the docker runtime"},
		"image":      {func(c *runtime.ContainerConfig) { c.Image = "busybox" }, "images are not supported"},
		"no command": {func(c *runtime.ContainerConfig) { c.Command = nil }, "a command is required"},
	} {
		cfg := e.caps.Container("bad")
		tc.edit(&cfg)
		if _, err := r.CreateContainer(t.Context(), sb, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CreateContainer = %v, want %q", name, err, tc.want)
		}
	}
	cfg := e.caps.Container("missing")
	cfg.Command = []string{"maestro-no-such-command"}
	id, err := r.CreateContainer(t.Context(), sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(t.Context(), id); err == nil || !strings.Contains(err.Error(), "not found in $PATH") {
		t.Errorf("StartContainer of a missing command = %v", err)
	}
	var ie *runtime.ImageError
	if err := r.EnsureImage(t.Context(), "busybox", "", nil); !errors.As(err, &ie) {
		t.Errorf("EnsureImage(busybox) = %v, want an ImageError", err)
	}
}

// The shim records the exit code while no Runtime looks.
func testExitWithoutAgent(t *testing.T, e *env) {
	start := func() string { // the agent that started it is gone when this returns
		r := e.newRuntime(t)
		sb := runtimetest.StartPod(t, r, e.caps, nil)
		return runtimetest.Start(t, r, sb, e.caps.Container("short", "-sleep", "300ms", "-exit", "5"))
	}
	id := start()
	time.Sleep(time.Second)
	r2 := e.newRuntime(t)
	c, err := r2.InspectContainer(t.Context(), id)
	if err != nil || c.State != runtime.ContainerExited || c.ExitCode != 5 || c.FinishedAt.IsZero() {
		t.Errorf("after exiting unobserved: %+v, %v; want Exited 5", c, err)
	}
}

// A live pid whose start time differs is another process: the container
// is reported exited, and never signalled.
func testPidReuse(t *testing.T, e *env) {
	r := e.newRuntime(t)
	sb := runtimetest.StartPod(t, r, e.caps, nil)
	id := runtimetest.Start(t, r, sb, e.caps.Container("reused", "-term-exit", "0", "-print", "ready", "-sleep", "1h"))
	runtimetest.WaitForLog(t, r, id, "ready")
	state := filepath.Join(e.root, "containers", id, "state.json")
	orig, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replaceFile(state, orig) }) // so cleanup kills it
	forged := strings.Replace(string(orig), `"startTicks": `, `"startTicks": 1`, 1)
	if err := replaceFile(state, []byte(forged)); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.InspectContainer(t.Context(), id); c.State != runtime.ContainerExited {
		t.Errorf("with a reused pid the container is %q, want Exited", c.State)
	}
	if err := r.StopContainer(t.Context(), id, time.Second); err != nil {
		t.Errorf("StopContainer: %v", err)
	}
	if err := replaceFile(state, orig); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.InspectContainer(t.Context(), id); c.State != runtime.ContainerRunning {
		t.Errorf("the stranger was signalled: the container is %q", c.State)
	}
}

// replaceFile swaps a record atomically, as the runtime writes them: the
// subtests share one root, and another's ListContainers must never read
// half a state.json.
func replaceFile(path string, b []byte) error {
	tmp := path + ".forged"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func testCgroups(t *testing.T, e *env) {
	if !e.cgroups {
		testreq.Missing(t, "cgroups (root and a mounted cgroup v2) to test that limits are enforced")
	}
	r := e.newRuntime(t)
	sb := runtimetest.StartPod(t, r, e.caps, nil)
	cfg := e.caps.Container("limited", "-term-exit", "0", "-print", "ready", "-sleep", "1h")
	cfg.Resources = runtime.Resources{CPURequestMilli: 250, CPULimitMilli: 500, MemoryLimit: 64 << 20}
	id := runtimetest.Start(t, r, sb, cfg)
	runtimetest.WaitForLog(t, r, id, "ready")

	var dirs []string
	want := map[string]string{}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		d := filepath.Join("/sys/fs/cgroup", e.cgroupParent, id)
		dirs = []string{d}
		want[d+"/cpu.max"] = "50000 100000"
		want[d+"/memory.max"] = strconv.Itoa(64 << 20)
	} else {
		cpu := filepath.Join("/sys/fs/cgroup/cpu", e.cgroupParent, id)
		mem := filepath.Join("/sys/fs/cgroup/memory", e.cgroupParent, id)
		dirs = []string{cpu, mem}
		want[cpu+"/cpu.cfs_quota_us"] = "50000"
		want[cpu+"/cpu.shares"] = "256"
		want[mem+"/memory.limit_in_bytes"] = strconv.Itoa(64 << 20)
	}
	for file, v := range want {
		if b, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(b)) != v {
			t.Errorf("%s = %q (%v), want %q", file, b, err, v)
		}
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cgroup.procs")
		if err != nil || len(strings.Fields(string(b))) != 1 { // the process, not the shim
			t.Errorf("%s/cgroup.procs = %q (%v), want the process alone", d, b, err)
		}
	}
	if err := r.RemoveContainer(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left after remove (%v)", d, err)
		}
	}
}
