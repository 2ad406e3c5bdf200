package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// unknownID names nothing in any runtime.
const unknownID = "0123456789abcdef0123456789abcdef-unknown"

// Run is the conformance suite: every runtime.Runtime passes it.
// newRuntime makes a runtime over the same state each time it is called
// (the same engine, or the same state directory), as an agent restarting
// on its node would. Subtests run in parallel, each with pods of its own.
func Run(t *testing.T, newRuntime func(t *testing.T) runtime.Runtime, caps Capabilities) {
	s := &suite{newRuntime: newRuntime, caps: caps}
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"Sandboxes", s.testSandboxes},
		{"ContainerLifecycle", s.testContainerLifecycle},
		{"ExitCodes", s.testExitCodes},
		{"CommandAndArgs", s.testCommandAndArgs},
		{"EnvAndWorkingDir", s.testEnvAndWorkingDir},
		{"GracefulStop", s.testGracefulStop},
		{"Logs", s.testLogs},
		{"Exec", s.testExec},
		{"Stats", s.testStats},
		{"Adoption", s.testAdoption},
		{"ExitedAdoption", s.testExitedAdoption},
		{"OOMKilled", s.testOOMKilled},
		{"PodNetwork", s.testPodNetwork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

type suite struct {
	newRuntime func(t *testing.T) runtime.Runtime
	caps       Capabilities
}

func (s *suite) pod(t *testing.T, r runtime.Runtime) runtime.Sandbox {
	t.Helper()
	return StartPod(t, r, s.caps, nil)
}

func (s *suite) testSandboxes(t *testing.T) {
	r := s.newRuntime(t)
	ctx := t.Context()
	group := map[string]string{"runtimetest.group": randomHex(4)}
	inGroup := func(c *runtime.SandboxConfig) {
		c.Labels["runtimetest.group"] = group["runtimetest.group"]
		c.Labels[runtime.LabelCluster] = "disguised" // the config's Cluster wins
	}
	a := StartPod(t, r, s.caps, inGroup)
	b := StartPod(t, r, s.caps, inGroup)

	if a.ID == "" || a.IP == "" || a.State != runtime.SandboxReady || a.CreatedAt.IsZero() {
		t.Fatalf("RunSandbox = %+v; want an id, an IP, Ready and a creation time", a)
	}
	list := func(f runtime.Filter) []runtime.Sandbox {
		t.Helper()
		sbs, err := r.ListSandboxes(ctx, f)
		if err != nil {
			t.Fatalf("ListSandboxes(%+v): %v", f, err)
		}
		return sbs
	}
	ids := func(sbs []runtime.Sandbox) []string {
		var out []string
		for _, sb := range sbs {
			out = append(out, sb.ID)
		}
		slices.Sort(out)
		return out
	}
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if got := ids(list(runtime.Filter{Labels: group})); !slices.Equal(got, want) {
		t.Errorf("list by label = %v, want %v", got, want)
	}
	if got := ids(list(runtime.Filter{Node: "node-1", Labels: group})); !slices.Equal(got, want) {
		t.Errorf("list by node and label = %v, want %v", got, want)
	}
	if got := list(runtime.Filter{Node: "node-2", Labels: group}); len(got) != 0 {
		t.Errorf("list by another node = %v, want none", ids(got))
	}
	if got := ids(list(runtime.Filter{Cluster: Cluster, Node: "node-1", Labels: group})); !slices.Equal(got, want) {
		t.Errorf("list by cluster, node and label = %v, want %v", got, want)
	}
	for _, other := range []string{"another-cluster", "disguised"} {
		if got := list(runtime.Filter{Cluster: other, Node: "node-1", Labels: group}); len(got) != 0 {
			t.Errorf("list by cluster %q = %v, want none: an agent would take another cluster's pods for its own", other, ids(got))
		}
	}
	got := list(runtime.Filter{PodUID: a.PodUID})
	if len(got) != 1 {
		t.Fatalf("list by pod uid = %v, want [%s]", ids(got), a.ID)
	}
	sb := got[0]
	if sb.ID != a.ID || sb.PodUID != a.PodUID || sb.Name != a.Name || sb.Namespace != "runtimetest" ||
		sb.Node != "node-1" || sb.IP != a.IP || sb.State != runtime.SandboxReady {
		t.Errorf("listed sandbox = %+v, want %+v", sb, a)
	}
	for k, v := range s.caps.Labels {
		if sb.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, sb.Labels[k], v)
		}
	}
	if sb.Labels[runtime.LabelRole] != runtime.RoleSandbox || sb.Labels[runtime.LabelManaged] != "true" ||
		sb.Labels[runtime.LabelCluster] != Cluster {
		t.Errorf("labels = %v, want the contract's", sb.Labels)
	}

	if err := r.StopSandbox(ctx, a.ID, 5*time.Second); err != nil {
		t.Fatalf("StopSandbox: %v", err)
	}
	if got := list(runtime.Filter{PodUID: a.PodUID}); len(got) != 1 || got[0].State != runtime.SandboxNotReady {
		t.Errorf("after stop: %+v, want one NotReady sandbox", got)
	}
	if err := r.RemoveSandbox(ctx, a.ID); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
	if got := ids(list(runtime.Filter{Labels: group})); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("after remove: %v, want [%s]", got, b.ID)
	}
	if err := r.RemoveSandbox(ctx, a.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("RemoveSandbox of a removed sandbox = %v, want ErrNotFound", err)
	}
	if err := r.StopSandbox(ctx, unknownID, time.Second); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("StopSandbox(unknown) = %v, want ErrNotFound", err)
	}
}

func (s *suite) testContainerLifecycle(t *testing.T) {
	r := s.newRuntime(t)
	ctx := t.Context()
	sb := s.pod(t, r)
	cfg := s.caps.Container("app", "-term-exit", "0", "-print", "ready", "-sleep", "1h")
	cfg.Attempt = 2
	cfg.Labels["runtimetest.extra"] = "x"
	cfg.Labels[runtime.LabelCluster] = "disguised" // a container is of its sandbox's cluster
	id, err := r.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	cs, err := r.ListContainers(ctx, runtime.Filter{PodUID: sb.PodUID})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	if len(cs) != 1 || cs[0].ID != id {
		t.Fatalf("ListContainers = %+v, want only %s (and never the sandbox)", cs, id)
	}
	c := cs[0]
	if c.State != runtime.ContainerCreated || c.Name != "app" || c.Attempt != 2 || c.Hash != "hash-app" ||
		c.SandboxID != sb.ID || c.PodUID != sb.PodUID || c.CreatedAt.IsZero() || c.Image != cfg.Image {
		t.Errorf("created container = %+v", c)
	}
	if c.Labels["runtimetest.extra"] != "x" || c.Labels[runtime.LabelRole] != runtime.RoleContainer ||
		c.Labels[runtime.LabelContainerName] != "app" || c.Labels[runtime.LabelPodName] != sb.Name ||
		c.Labels[runtime.LabelCluster] != Cluster {
		t.Errorf("labels = %v", c.Labels)
	}
	if other, err := r.ListContainers(ctx, runtime.Filter{Cluster: "disguised", PodUID: sb.PodUID}); err != nil || len(other) != 0 {
		t.Errorf("ListContainers of another cluster = %+v, %v; want none", other, err)
	}

	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	WaitForLog(t, r, id, "ready")
	c, err = r.InspectContainer(ctx, id)
	if err != nil {
		t.Fatalf("InspectContainer: %v", err)
	}
	if c.State != runtime.ContainerRunning || c.StartedAt.IsZero() || c.StartedAt.Before(c.CreatedAt.Add(-time.Second)) {
		t.Errorf("started container = %+v", c)
	}
	named, err := r.ListContainers(ctx, runtime.Filter{PodUID: sb.PodUID, Labels: map[string]string{runtime.LabelContainerName: "app"}})
	if err != nil || len(named) != 1 || named[0].State != runtime.ContainerRunning {
		t.Errorf("list by container name = %+v, %v", named, err)
	}
	if err := r.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	c, err = r.InspectContainer(ctx, id)
	if err != nil {
		t.Fatalf("InspectContainer: %v", err)
	}
	if c.State != runtime.ContainerExited || c.ExitCode != 0 || c.Reason != "Completed" || c.FinishedAt.Before(c.StartedAt) {
		t.Errorf("stopped container = %+v, want Exited 0 Completed", c)
	}
	if err := r.RemoveContainer(ctx, id); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if cs, _ := r.ListContainers(ctx, runtime.Filter{PodUID: sb.PodUID}); len(cs) != 0 {
		t.Errorf("after remove: %+v", cs)
	}

	for name, call := range map[string]func(id string) error{
		"InspectContainer": func(id string) error { _, err := r.InspectContainer(ctx, id); return err },
		"RemoveContainer":  func(id string) error { return r.RemoveContainer(ctx, id) },
		"StartContainer":   func(id string) error { return r.StartContainer(ctx, id) },
		"StopContainer":    func(id string) error { return r.StopContainer(ctx, id, time.Second) },
		"Logs":             func(id string) error { return r.Logs(ctx, id, runtime.LogOptions{}, &bytes.Buffer{}) },
		"Exec":             func(id string) error { _, err := r.Exec(ctx, id, []string{s.caps.Program}, time.Second); return err },
		"Stats":            func(id string) error { _, err := r.Stats(ctx, id); return err },
	} {
		for _, bad := range []string{id, unknownID} {
			if err := call(bad); !errors.Is(err, runtime.ErrNotFound) {
				t.Errorf("%s(%s) = %v, want ErrNotFound", name, bad, err)
			}
		}
	}
	if _, err := r.InspectContainer(ctx, sb.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("InspectContainer(a sandbox) = %v, want ErrNotFound", err)
	}
}

func (s *suite) testExitCodes(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	for _, tc := range []struct {
		code   string
		exit   int
		reason string
	}{
		{"0", 0, "Completed"},
		{"1", 1, "Error"},
		{"42", 42, "Error"},
	} {
		t.Run("exit"+tc.code, func(t *testing.T) {
			t.Parallel()
			id := Start(t, r, sb, s.caps.Container("exit"+tc.code, "-exit", tc.code))
			c := WaitExited(t, r, id)
			if c.ExitCode != tc.exit || c.Reason != tc.reason {
				t.Errorf("exit %d %q, want %d %q", c.ExitCode, c.Reason, tc.exit, tc.reason)
			}
			if c.StartedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) {
				t.Errorf("started %v, finished %v", c.StartedAt, c.FinishedAt)
			}
		})
	}
}

func (s *suite) testCommandAndArgs(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	type tc struct {
		name          string
		command, args []string
		want          string
	}
	cases := []tc{
		{"command and args", []string{s.caps.Program, "-print-args"}, []string{"-print", "x"}, "args=-print-args -print x"},
		{"command only", []string{s.caps.Program, "-print-args", "-print", "y"}, nil, "args=-print-args -print y"},
	}
	if s.caps.ImageEntrypoint {
		cases = append(cases, tc{"args only", nil, []string{"-print-args", "-exit", "0"}, "args=-print-args -exit 0"})
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := s.caps.Container("c" + string(rune('a'+i)))
			cfg.Command, cfg.Args = tc.command, tc.args
			id := Start(t, r, sb, cfg)
			if c := WaitExited(t, r, id); c.ExitCode != 0 {
				t.Fatalf("exit code %d; logs:\n%s", c.ExitCode, Logs(t, r, id, runtime.LogOptions{}))
			}
			if got := Logs(t, r, id, runtime.LogOptions{}); !slices.Contains(lines(got), tc.want) {
				t.Errorf("logs = %q, want the line %q", got, tc.want)
			}
		})
	}
}

func (s *suite) testEnvAndWorkingDir(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	cfg := s.caps.Container("env", "-print-env", "FOO,EMPTY,SPACED", "-print-cwd")
	cfg.Env = []string{"FOO=bar", "EMPTY=", "SPACED=a b  c"}
	cfg.WorkingDir = "/tmp"
	id := Start(t, r, sb, cfg)
	WaitExited(t, r, id)
	got := lines(Logs(t, r, id, runtime.LogOptions{}))
	for _, want := range []string{"FOO=bar", "EMPTY=", "SPACED=a b  c", "cwd=/tmp"} {
		if !slices.Contains(got, want) {
			t.Errorf("logs = %q, want the line %q", got, want)
		}
	}
}

func (s *suite) testGracefulStop(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	t.Run("handler", func(t *testing.T) {
		t.Parallel()
		id := Start(t, r, sb, s.caps.Container("handler", "-term-exit", "7", "-print", "ready", "-sleep", "1h"))
		WaitForLog(t, r, id, "ready")
		start := time.Now()
		if err := r.StopContainer(t.Context(), id, 20*time.Second); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("stop took %v; the handler exits at once", took)
		}
		c, err := r.InspectContainer(t.Context(), id)
		if err != nil || c.State != runtime.ContainerExited || c.ExitCode != 7 || c.Reason != "Error" {
			t.Errorf("after SIGTERM: %+v, %v; want Exited with the handler's code 7", c, err)
		}
		if logs := Logs(t, r, id, runtime.LogOptions{}); !strings.Contains(logs, "got SIGTERM") {
			t.Errorf("logs = %q, want the handler's line", logs)
		}
	})
	t.Run("ignored", func(t *testing.T) {
		t.Parallel()
		id := Start(t, r, sb, s.caps.Container("stubborn", "-ignore-term", "-print", "ready", "-sleep", "1h"))
		WaitForLog(t, r, id, "ready")
		start := time.Now()
		if err := r.StopContainer(t.Context(), id, time.Second); err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		if took := time.Since(start); took < 900*time.Millisecond || took > 15*time.Second {
			t.Errorf("stop took %v, want the 1s timeout then SIGKILL", took)
		}
		c, err := r.InspectContainer(t.Context(), id)
		if err != nil || c.State != runtime.ContainerExited || c.ExitCode != 137 || c.Reason != "Error" {
			t.Errorf("after SIGKILL: %+v, %v; want Exited 137", c, err)
		}
		if logs := Logs(t, r, id, runtime.LogOptions{}); !strings.Contains(logs, "ignoring SIGTERM") {
			t.Errorf("logs = %q, want proof SIGTERM came first", logs)
		}
	})
}

func (s *suite) testLogs(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	id := Start(t, r, sb, s.caps.Container("logs", "-stderr", "oops", "-lines", "5", "-interval", "20ms"))
	WaitExited(t, r, id)

	all := lines(Logs(t, r, id, runtime.LogOptions{}))
	if !slices.Contains(all, "oops") {
		t.Errorf("logs %q lack stderr's line", all)
	}
	want := []string{"line 1", "line 2", "line 3", "line 4", "line 5"}
	if got := slices.DeleteFunc(slices.Clone(all), func(l string) bool { return l == "oops" }); !slices.Equal(got, want) {
		t.Errorf("stdout lines = %q, want %q", got, want)
	}
	if got := lines(Logs(t, r, id, runtime.LogOptions{TailLines: 2})); !slices.Equal(got, want[3:]) {
		t.Errorf("tail 2 = %q, want %q", got, want[3:])
	}

	stamped := lines(Logs(t, r, id, runtime.LogOptions{Timestamps: true}))
	var line3 time.Time
	for _, l := range stamped {
		ts, text, ok := strings.Cut(l, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil || time.Since(at) > time.Hour || time.Until(at) > time.Minute {
			t.Errorf("line %q: want an RFC 3339 timestamp of now, a space and the text", l)
		}
		if text == "line 3" {
			line3 = at
		}
	}
	if line3.IsZero() {
		t.Fatalf("timestamped logs %q lack line 3", stamped)
	}
	if got := lines(Logs(t, r, id, runtime.LogOptions{Since: line3})); !slices.Equal(got, want[2:]) {
		t.Errorf("since line 3's time = %q, want %q", got, want[2:])
	}

	t.Run("follow until exit", func(t *testing.T) {
		t.Parallel()
		id := Start(t, r, sb, s.caps.Container("follow", "-lines", "5", "-interval", "150ms"))
		out := Logs(t, r, id, runtime.LogOptions{Follow: true})
		if got := lines(out); !slices.Equal(got, want) {
			t.Errorf("followed logs = %q, want %q", got, want)
		}
		if c, err := r.InspectContainer(t.Context(), id); err != nil || c.State != runtime.ContainerExited {
			t.Errorf("follow returned while the container is %q (%v)", c.State, err)
		}
	})
	t.Run("follow until cancelled", func(t *testing.T) {
		t.Parallel()
		id := Start(t, r, sb, s.caps.Container("endless", "-print", "ready", "-sleep", "1h"))
		WaitForLog(t, r, id, "ready")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		var b bytes.Buffer
		start := time.Now()
		if err := r.Logs(ctx, id, runtime.LogOptions{Follow: true}, &b); err != nil {
			t.Errorf("Logs ended by its context = %v, want nil", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("follow ignored its context for %v", took)
		}
		if b.String() != "ready\n" {
			t.Errorf("followed %q, want %q", b.String(), "ready\n")
		}
	})
}

func (s *suite) testExec(t *testing.T) {
	r := s.newRuntime(t)
	ctx := t.Context()
	sb := s.pod(t, r)
	cfg := s.caps.Container("exec", "-term-exit", "0", "-print", "ready", "-sleep", "1h")
	cfg.Env = []string{"FOO=from-container"}
	id := Start(t, r, sb, cfg)
	WaitForLog(t, r, id, "ready")

	res, err := r.Exec(ctx, id, []string{s.caps.Program, "-print", "hello", "-print-env", "FOO", "-exit", "3"}, 10*time.Second)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if res.ExitCode != 3 || !strings.Contains(string(res.Output), "hello\n") || !strings.Contains(string(res.Output), "FOO=from-container") {
		t.Errorf("Exec = %d %q, want 3 and hello with the container's env", res.ExitCode, res.Output)
	}
	res, err = r.Exec(ctx, id, []string{s.caps.Program, "-bytes", "10000"}, 10*time.Second)
	if err != nil || res.ExitCode != 0 || len(res.Output) != runtime.MaxExecOutput {
		t.Errorf("Exec of 10000 bytes = %d, %d bytes, %v; want 0 and %d bytes", res.ExitCode, len(res.Output), err, runtime.MaxExecOutput)
	}
	start := time.Now()
	if _, err := r.Exec(ctx, id, []string{s.caps.Program, "-sleep", "30s"}, 500*time.Millisecond); err == nil {
		t.Errorf("Exec past its timeout succeeded")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Exec with a 500ms timeout took %v", took)
	}
}

func (s *suite) testStats(t *testing.T) {
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	id := Start(t, r, sb, s.caps.Container("burn", "-alloc-mb", "32", "-burn", "-sleep", "1h"))
	WaitForLog(t, r, id, "allocated")
	first, err := r.Stats(t.Context(), id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	time.Sleep(time.Second)
	second, err := r.Stats(t.Context(), id)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if second.CPUUsageNanos <= first.CPUUsageNanos || second.CPUUsageNanos-first.CPUUsageNanos < uint64(100*time.Millisecond) {
		t.Errorf("cpu %d then %d ns a second later while burning a cpu", first.CPUUsageNanos, second.CPUUsageNanos)
	}
	if second.MemoryBytes < 16<<20 || second.MemoryBytes > 1<<30 {
		t.Errorf("memory %d bytes, want about 32 MiB", second.MemoryBytes)
	}
	if second.Timestamp.IsZero() || !second.Timestamp.After(first.Timestamp) {
		t.Errorf("timestamps %v then %v", first.Timestamp, second.Timestamp)
	}
}

func (s *suite) testAdoption(t *testing.T) {
	r1 := s.newRuntime(t)
	sb := s.pod(t, r1)
	cfg := s.caps.Container("adopted", "-term-exit", "9", "-print", "ready", "-sleep", "1h")
	cfg.Attempt = 3
	id := Start(t, r1, sb, cfg)
	WaitForLog(t, r1, id, "ready")

	r2 := s.newRuntime(t) // the agent restarted
	ctx := t.Context()
	sbs, err := r2.ListSandboxes(ctx, runtime.Filter{PodUID: sb.PodUID})
	if err != nil || len(sbs) != 1 || sbs[0].ID != sb.ID || sbs[0].State != runtime.SandboxReady || sbs[0].IP != sb.IP {
		t.Fatalf("new runtime's sandboxes = %+v, %v; want %+v", sbs, err, sb)
	}
	cs, err := r2.ListContainers(ctx, runtime.Filter{PodUID: sb.PodUID})
	if err != nil || len(cs) != 1 {
		t.Fatalf("new runtime's containers = %+v, %v", cs, err)
	}
	if c := cs[0]; c.ID != id || c.State != runtime.ContainerRunning || c.Attempt != 3 || c.Name != "adopted" || c.SandboxID != sb.ID {
		t.Errorf("adopted container = %+v", c)
	}
	if logs := Logs(t, r2, id, runtime.LogOptions{}); logs != "ready\n" {
		t.Errorf("adopted logs = %q", logs)
	}
	if res, err := r2.Exec(ctx, id, []string{s.caps.Program, "-exit", "4"}, 10*time.Second); err != nil || res.ExitCode != 4 {
		t.Errorf("Exec through the new runtime = %+v, %v", res, err)
	}
	if _, err := r2.Stats(ctx, id); err != nil {
		t.Errorf("Stats through the new runtime: %v", err)
	}
	if err := r2.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer through the new runtime: %v", err)
	}
	for i, r := range []runtime.Runtime{r1, r2} {
		if c, err := r.InspectContainer(ctx, id); err != nil || c.ExitCode != 9 || c.State != runtime.ContainerExited {
			t.Errorf("runtime %d sees %+v, %v; want Exited 9", i+1, c, err)
		}
	}
}

// testExitedAdoption: containers that exited stay listed, with their exit
// code, attempt, sandbox and logs, for a new runtime (an agent restart).
// The agent reads from these records which init containers completed, so a
// restarted agent does not run them again.
func (s *suite) testExitedAdoption(t *testing.T) {
	r1 := s.newRuntime(t)
	sb := s.pod(t, r1)
	done := s.caps.Container("init-done", "-print", "wrote the config", "-exit", "0")
	done.Attempt = 1
	failed := s.caps.Container("init-failed", "-print", "migration failed", "-exit", "3")
	ids := map[string]string{"init-done": Start(t, r1, sb, done), "init-failed": Start(t, r1, sb, failed)}
	for _, id := range ids {
		WaitExited(t, r1, id)
	}

	r2 := s.newRuntime(t) // the agent restarted
	cs, err := r2.ListContainers(t.Context(), runtime.Filter{PodUID: sb.PodUID})
	if err != nil || len(cs) != 2 {
		t.Fatalf("new runtime's containers = %+v, %v; want the 2 exited ones", cs, err)
	}
	for _, tc := range []struct {
		name, reason, log string
		exit, attempt     int
	}{
		{"init-done", "Completed", "wrote the config\n", 0, 1},
		{"init-failed", "Error", "migration failed\n", 3, 0},
	} {
		c, ok := find(cs, ids[tc.name])
		if !ok {
			t.Errorf("%s not listed by the new runtime: %+v", tc.name, cs)
			continue
		}
		if c.Name != tc.name || c.State != runtime.ContainerExited || c.ExitCode != tc.exit || c.Reason != tc.reason ||
			c.Attempt != tc.attempt || c.SandboxID != sb.ID || c.FinishedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) {
			t.Errorf("%s through the new runtime = %+v; want Exited %d (%s), attempt %d, in sandbox %s", tc.name, c, tc.exit, tc.reason, tc.attempt, sb.ID)
		}
		if logs := Logs(t, r2, c.ID, runtime.LogOptions{}); logs != tc.log {
			t.Errorf("%s logs through the new runtime = %q, want %q", tc.name, logs, tc.log)
		}
	}
}

func (s *suite) testOOMKilled(t *testing.T) {
	if !s.caps.MemoryLimits {
		testreq.Missing(t, "memory limits enforced by this runtime here (cgroups: root and cgroup v2)")
	}
	r := s.newRuntime(t)
	sb := s.pod(t, r)
	cfg := s.caps.Container("hog", "-alloc-mb", "256", "-sleep", "1h")
	cfg.Resources.MemoryLimit = 32 << 20
	id := Start(t, r, sb, cfg)
	if c := WaitExited(t, r, id); c.Reason != "OOMKilled" || c.ExitCode != 137 {
		t.Errorf("over its memory limit: exit %d %q (%s), want 137 OOMKilled", c.ExitCode, c.Reason, c.Message)
	}
}
