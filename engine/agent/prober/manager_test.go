package prober

import (
	"context"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// fakeExec answers exec probes from a script of exit codes per command
// name (cmd[0]); the last code repeats. With block set, calls wait for it
// to close (or their context to end).
type fakeExec struct {
	mu    sync.Mutex
	codes map[string][]int
	calls map[string]int
	block chan struct{}
	err   error
}

func newFakeExec() *fakeExec {
	return &fakeExec{codes: map[string][]int{}, calls: map[string]int{}}
}

func (f *fakeExec) script(cmd string, codes ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[cmd] = codes
}

func (f *fakeExec) Calls(cmd string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[cmd]
}

func (f *fakeExec) Exec(ctx context.Context, _ string, cmd []string, _ time.Duration) (runtime.ExecResult, error) {
	f.mu.Lock()
	f.calls[cmd[0]]++
	code := 0
	if s := f.codes[cmd[0]]; len(s) > 0 {
		code = s[0]
		if len(s) > 1 {
			f.codes[cmd[0]] = s[1:]
		}
	}
	block, err := f.block, f.err
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return runtime.ExecResult{}, ctx.Err()
		}
	}
	if err != nil {
		return runtime.ExecResult{}, err
	}
	return runtime.ExecResult{ExitCode: code, Output: fmt.Appendf(nil, "exit %d\n", code)}, nil
}

// harness runs a Manager on a fake clock and records its updates.
type harness struct {
	t     *testing.T
	m     *Manager
	clk   *fakeClock
	exec  *fakeExec
	ticks chan key

	mu      sync.Mutex
	updates []Update
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clk: newFakeClock(), exec: newFakeExec(), ticks: make(chan key, 1024)}
	h.m = NewManager(h.exec, func(u Update) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.updates = append(h.updates, u)
	}, slog.New(slog.DiscardHandler))
	h.m.clock = h.clk
	h.m.testHookTicked = func(k key) { h.ticks <- k }
	t.Cleanup(h.m.Stop)
	return h
}

// step advances the clock by d and waits for n worker ticks.
func (h *harness) step(d time.Duration, n int) {
	h.t.Helper()
	if d > 0 {
		h.clk.Advance(d)
	}
	for range n {
		select {
		case <-h.ticks:
		case <-time.After(10 * time.Second):
			h.t.Fatalf("timed out waiting for a probe worker to tick")
		}
	}
}

// noTick checks that no worker ticked (Advance fires due timers
// synchronously, so a tick that is due has already been signalled or is
// on its way with its timer disarmed).
func (h *harness) noTick(armed int) {
	h.t.Helper()
	if got := h.clk.Armed(); got != armed {
		h.t.Fatalf("armed timers = %d, want %d (a worker ticked early?)", got, armed)
	}
	select {
	case k := <-h.ticks:
		h.t.Fatalf("unexpected tick of %v", k)
	default:
	}
}

func (h *harness) Updates() []Update {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.updates)
}

func execProbe(cmd string, period, success, failure int32) *api.Probe {
	return &api.Probe{
		ProbeHandler:     api.ProbeHandler{Exec: &api.ExecAction{Command: []string{cmd}}},
		PeriodSeconds:    period,
		SuccessThreshold: success,
		FailureThreshold: failure,
		TimeoutSeconds:   1,
	}
}

var target = Target{PodIP: "127.0.0.1", ContainerID: "c1"}

func TestThresholds(t *testing.T) {
	const U, S, F = Unknown, Success, Failure
	tests := []struct {
		name             string
		kind             Kind
		success, failure int32
		codes            []int    // exit code of each attempt
		want             []Result // result after each tick
		calls            int      // probes actually run
		updates          []Result // onChange, in order
	}{
		{"readiness is not ready until a success", Readiness, 1, 3,
			[]int{1, 1, 0}, []Result{F, F, S}, 3, []Result{S}},
		{"readiness success threshold", Readiness, 2, 3,
			[]int{0, 0, 1, 1, 1, 0, 0}, []Result{F, S, S, S, F, F, S}, 7, []Result{S, F, S}},
		{"readiness keeps probing after failure", Readiness, 1, 1,
			[]int{0, 1, 0}, []Result{S, F, S}, 3, []Result{S, F, S}},
		{"liveness is alive until failure threshold", Liveness, 1, 3,
			[]int{1, 1, 0, 1, 1, 1}, []Result{S, S, S, S, S, F}, 6, []Result{F}},
		{"liveness failure holds until a new container", Liveness, 1, 2,
			[]int{1, 1, 0, 0}, []Result{S, F, F, F}, 2, []Result{F}},
		{"startup unknown until success then stops", Startup, 1, 5,
			[]int{1, 1, 0}, []Result{U, U, S}, 3, []Result{S}},
		{"startup fails after threshold", Startup, 1, 2,
			[]int{1, 1, 0}, []Result{U, F, F}, 2, []Result{F}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.exec.script("probe", tc.codes...)
			p := execProbe("probe", 1, tc.success, tc.failure)
			p.InitialDelaySeconds = 1 // so the initial result is there to see
			h.m.Ensure("pod", "app", tc.kind, p, target, h.clk.Now())
			if got, want := h.m.Result("pod", "app", tc.kind), initialResult(tc.kind); got != want {
				t.Fatalf("initial result = %v, want %v", got, want)
			}
			for i, want := range tc.want {
				h.step(time.Second, 1)
				if got := h.m.Result("pod", "app", tc.kind); got != want {
					t.Fatalf("after tick %d: result = %v, want %v", i+1, got, want)
				}
			}
			if got := h.exec.Calls("probe"); got != tc.calls {
				t.Errorf("probes run = %d, want %d", got, tc.calls)
			}
			var got []Result
			for _, u := range h.Updates() {
				if u.PodUID != "pod" || u.Container != "app" || u.Kind != tc.kind {
					t.Errorf("update for the wrong probe: %+v", u)
				}
				if (u.Result == Failure) != (u.Message != "") {
					t.Errorf("update %+v: message must be set exactly on failure", u)
				}
				got = append(got, u.Result)
			}
			if !slices.Equal(got, tc.updates) {
				t.Errorf("updates = %v, want %v", got, tc.updates)
			}
		})
	}
}

func TestFailureMessage(t *testing.T) {
	h := newHarness(t)
	h.exec.script("probe", 3)
	h.m.Ensure("pod", "app", Liveness, execProbe("probe", 1, 1, 1), target, h.clk.Now())
	h.step(0, 1)
	u := h.Updates()
	if len(u) != 1 || u[0].Message != `command ["probe"] exited with 3: exit 3` {
		t.Fatalf("updates = %+v", u)
	}
}

func TestInitialDelay(t *testing.T) {
	h := newHarness(t)
	p := execProbe("probe", 2, 1, 3)
	p.InitialDelaySeconds = 5
	// The container started 2s before the agent ensures its probe: the
	// delay counts from its start, so the first probe is 3s away.
	started := h.clk.Now().Add(-2 * time.Second)
	h.m.Ensure("pod", "app", Readiness, p, target, started)
	h.clk.WaitArmed(t, 1)

	h.clk.Advance(2*time.Second + 999*time.Millisecond)
	h.noTick(1)
	if h.exec.Calls("probe") != 0 {
		t.Fatal("probed before initialDelaySeconds")
	}
	h.step(time.Millisecond, 1)
	if got := h.exec.Calls("probe"); got != 1 {
		t.Fatalf("probes at initialDelaySeconds = %d, want 1", got)
	}
	h.clk.Advance(time.Second)
	h.noTick(1)
	h.step(time.Second, 1) // one period after the first probe
	if got := h.exec.Calls("probe"); got != 2 {
		t.Fatalf("probes after one period = %d, want 2", got)
	}

	// A container that started long ago (adopted after an agent restart)
	// is probed at once.
	h.m.Ensure("pod", "old", Readiness, p, target, started.Add(-time.Hour))
	h.step(0, 1)
	if got := h.exec.Calls("probe"); got != 3 {
		t.Fatalf("probes = %d, want 3", got)
	}
}

// TestStartupGatesOtherProbes: liveness and readiness wait for startup.
// Startup ticks at 0s, 2s, 4s...; the others at 1s, 3s... so the order of
// events is fixed.
func TestStartupGatesOtherProbes(t *testing.T) {
	h := newHarness(t)
	h.exec.script("startup", 1, 0)
	now := h.clk.Now()
	h.m.Ensure("pod", "app", Startup, execProbe("startup", 2, 1, 10), target, now)
	for _, k := range []Kind{Liveness, Readiness} {
		p := execProbe(string(k), 2, 1, 3)
		p.InitialDelaySeconds = 1
		h.m.Ensure("pod", "app", k, p, target, now)
	}
	h.step(0, 1) // startup fails once
	h.step(time.Second, 2)
	if h.exec.Calls("Liveness")+h.exec.Calls("Readiness") != 0 {
		t.Fatal("liveness or readiness probed before startup succeeded")
	}
	h.step(time.Second, 1) // startup succeeds, its worker ends
	if got := h.m.Result("pod", "app", Startup); got != Success {
		t.Fatalf("startup = %v, want Success", got)
	}
	if got := h.m.Result("pod", "app", Readiness); got != Failure {
		t.Fatalf("readiness = %v before its first probe, want Failure", got)
	}
	h.step(time.Second, 2)
	if h.exec.Calls("Liveness") != 1 || h.exec.Calls("Readiness") != 1 {
		t.Fatal("liveness and readiness did not start after startup succeeded")
	}
	if got := h.m.Result("pod", "app", Readiness); got != Success {
		t.Fatalf("readiness = %v, want Success", got)
	}
	h.step(time.Second, 0)
	h.noTick(2) // the startup worker is gone
	if got := h.exec.Calls("startup"); got != 2 {
		t.Fatalf("startup probes = %d, want 2", got)
	}
}

func TestEnsureRestartsOnChange(t *testing.T) {
	h := newHarness(t)
	h.m.Ensure("pod", "app", Readiness, execProbe("probe", 1, 1, 3), target, h.clk.Now())
	h.step(0, 1)
	if got := h.m.Result("pod", "app", Readiness); got != Success {
		t.Fatalf("result = %v, want Success", got)
	}

	// The same spec (another copy of it) keeps the worker and its result.
	h.m.Ensure("pod", "app", Readiness, execProbe("probe", 1, 1, 3), target, h.clk.Now())
	if got := h.m.Result("pod", "app", Readiness); got != Success {
		t.Fatalf("re-ensuring the same probe reset the result to %v", got)
	}

	restarts := []struct {
		name   string
		probe  *api.Probe
		target Target
	}{
		{"spec changed", execProbe("probe", 2, 1, 3), target},
		{"container replaced", execProbe("probe", 2, 1, 3), Target{PodIP: "127.0.0.1", ContainerID: "c2"}},
		{"pod IP changed", execProbe("probe", 2, 1, 3), Target{PodIP: "127.0.0.2", ContainerID: "c2"}},
		{"named ports changed", execProbe("probe", 2, 1, 3), Target{PodIP: "127.0.0.2", ContainerID: "c2", NamedPorts: map[string]int32{"http": 80}}},
	}
	for _, r := range restarts {
		calls := h.exec.Calls("probe")
		r.probe.InitialDelaySeconds = 1 // so the reset result is there to see
		h.m.Ensure("pod", "app", Readiness, r.probe, r.target, h.clk.Now())
		if got := h.m.Result("pod", "app", Readiness); got != Failure {
			t.Fatalf("%s: result = %v, want the initial Failure", r.name, got)
		}
		h.step(time.Second, 1)
		if got := h.m.Result("pod", "app", Readiness); got != Success || h.exec.Calls("probe") != calls+1 {
			t.Fatalf("%s: the restarted worker did not probe (result %v)", r.name, got)
		}
	}

	// A nil probe stops the worker.
	h.m.Ensure("pod", "app", Readiness, nil, target, h.clk.Now())
	if got := h.m.Result("pod", "app", Readiness); got != Unknown {
		t.Fatalf("result after removing the probe = %v, want Unknown", got)
	}
	h.clk.WaitArmed(t, 0)
}

func TestNewContainerReleasesHold(t *testing.T) {
	h := newHarness(t)
	h.exec.script("probe", 1)
	p := execProbe("probe", 1, 1, 1)
	h.m.Ensure("pod", "app", Liveness, p, target, h.clk.Now())
	h.step(0, 1)
	h.step(time.Second, 1)
	if got := h.m.Result("pod", "app", Liveness); got != Failure || h.exec.Calls("probe") != 1 {
		t.Fatalf("result %v after %d probes, want Failure after 1", got, h.exec.Calls("probe"))
	}
	h.exec.script("probe", 0)
	h.m.Ensure("pod", "app", Liveness, p, Target{PodIP: "127.0.0.1", ContainerID: "c2"}, h.clk.Now())
	if got := h.m.Result("pod", "app", Liveness); got != Success {
		t.Fatalf("new container starts %v, want Success", got)
	}
	h.step(0, 1)
	if h.exec.Calls("probe") != 2 {
		t.Fatal("the new container was not probed")
	}
}

func TestRemoveStopsWorkers(t *testing.T) {
	base := goruntime.NumGoroutine()
	h := newHarness(t)
	h.exec.script("probe", 1)
	for i := range 10 {
		for _, k := range []Kind{Liveness, Readiness, Startup} {
			h.m.Ensure(fmt.Sprintf("pod%d", i%2), fmt.Sprintf("c%d", i), k, execProbe("probe", 1, 1, 100), target, h.clk.Now())
		}
	}
	h.step(0, 30)
	if n := goruntime.NumGoroutine(); n < 30 {
		t.Fatalf("%d goroutines with 30 workers", n)
	}

	h.m.Remove("pod0", "c0")
	for _, k := range []Kind{Liveness, Readiness, Startup} {
		if got := h.m.Result("pod0", "c0", k); got != Unknown {
			t.Fatalf("%s of a removed container = %v, want Unknown", k, got)
		}
	}
	h.clk.WaitArmed(t, 27)
	h.m.RemovePod("pod1")
	h.clk.WaitArmed(t, 12)
	if got := h.m.Result("pod0", "c2", Liveness); got != Success {
		t.Fatalf("other pod's worker disturbed: %v", got)
	}
	h.m.RemovePod("pod0")
	h.clk.WaitArmed(t, 0)
	waitGoroutines(t, base)
}

func TestRemoveDropsProbeInFlight(t *testing.T) {
	base := goruntime.NumGoroutine()
	h := newHarness(t)
	h.exec.script("probe", 1)
	h.exec.block = make(chan struct{})
	h.m.Ensure("pod", "app", Liveness, execProbe("probe", 1, 1, 1), target, h.clk.Now())
	for h.exec.Calls("probe") == 0 {
		time.Sleep(time.Millisecond)
	}
	h.m.Remove("pod", "app")
	close(h.exec.block)
	h.step(0, 1)
	waitGoroutines(t, base)
	if u := h.Updates(); len(u) != 0 {
		t.Fatalf("updates from a removed worker: %+v", u)
	}
}

func TestStop(t *testing.T) {
	base := goruntime.NumGoroutine()
	h := newHarness(t)
	h.exec.block = make(chan struct{}) // a probe in flight at Stop
	for _, k := range []Kind{Liveness, Readiness} {
		h.m.Ensure("pod", "app", k, execProbe("probe", 1, 1, 1), target, h.clk.Now())
	}
	for h.exec.Calls("probe") < 2 {
		time.Sleep(time.Millisecond)
	}
	if n := workerGoroutines(); n != 2 {
		t.Fatalf("%d workers running, want 2", n)
	}
	h.m.Stop()
	if n := workerGoroutines(); n != 0 {
		t.Fatalf("Stop returned with %d workers running", n)
	}
	waitGoroutines(t, base)
	h.m.Ensure("pod", "app", Liveness, execProbe("probe", 1, 1, 1), target, h.clk.Now())
	if got := h.m.Result("pod", "app", Liveness); got != Unknown {
		t.Fatalf("Ensure after Stop started a worker (result %v)", got)
	}
}

func TestRuntimeErrorKeepsResult(t *testing.T) {
	h := newHarness(t)
	h.exec.err = fmt.Errorf("runtime: not found")
	h.m.Ensure("pod", "app", Liveness, execProbe("probe", 1, 1, 1), target, h.clk.Now())
	h.step(0, 1)
	h.step(time.Second, 1)
	if got := h.m.Result("pod", "app", Liveness); got != Success {
		t.Fatalf("result = %v after runtime errors, want the initial Success", got)
	}
}

func TestUnknownKindIgnored(t *testing.T) {
	h := newHarness(t)
	h.m.Ensure("pod", "app", Kind("Sideways"), execProbe("probe", 1, 1, 1), target, h.clk.Now())
	if h.clk.Armed() != 0 || len(h.m.workers) != 0 {
		t.Fatal("a worker started for an unknown kind")
	}
}

// workerGoroutines counts the goroutines running a worker.
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:goruntime.Stack(buf, true)]), "prober.(*worker).run(")
}

// waitGoroutines waits for the goroutine count to settle back to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := goruntime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, base, buf[:goruntime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
