package agent

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// rc is a runtime record of container name in sandbox sb.
func rc(name, sb string, attempt int, state runtime.ContainerState, exit int) runtime.Container {
	return runtime.Container{ID: name + "-" + sb, Name: name, SandboxID: sb, Attempt: attempt, State: state, ExitCode: exit}
}

func running(name string, attempt int) runtime.Container {
	return rc(name, "sb", attempt, runtime.ContainerRunning, 0)
}

func exited(name string, attempt, code int) runtime.Container {
	return rc(name, "sb", attempt, runtime.ContainerExited, code)
}

func TestNextInitStep(t *testing.T) {
	spec := func(policy api.RestartPolicy, inits ...string) *api.PodSpec {
		s := &api.PodSpec{RestartPolicy: policy, Containers: []api.Container{{Name: "app"}}}
		for _, n := range inits {
			s.InitContainers = append(s.InitContainers, api.Container{Name: n})
		}
		return s
	}
	two := spec(api.RestartAlways, "one", "two")
	tests := []struct {
		name        string
		spec        *api.PodSpec
		containers  []runtime.Container
		wantDone    bool
		wantNext    string
		wantCurrent int // attempt of Current; -1: nil
		wantFailed  string
		sandbox     string // the current sandbox: "" is "sb", "any" is none known
	}{
		{name: "no init containers", spec: spec(api.RestartAlways), wantDone: true, wantCurrent: -1},
		{name: "nothing ran: the first", spec: two, wantNext: "one", wantCurrent: -1},
		{name: "the first runs: wait for it", spec: two, containers: []runtime.Container{running("one", 0)},
			wantNext: "one", wantCurrent: 0},
		{name: "the first completed: the second", spec: two, containers: []runtime.Container{exited("one", 0, 0)},
			wantNext: "two", wantCurrent: -1},
		{name: "all completed", spec: two, containers: []runtime.Container{exited("one", 0, 0), exited("two", 0, 0)},
			wantDone: true, wantCurrent: -1},
		{name: "the second failed: restart it", spec: two,
			containers: []runtime.Container{exited("one", 0, 0), exited("two", 0, 1), exited("two", 1, 2)},
			wantNext:   "two", wantCurrent: 1},
		{name: "a failure then a success: done", spec: two,
			containers: []runtime.Container{exited("one", 0, 1), exited("one", 1, 0), exited("two", 0, 0)},
			wantDone:   true, wantCurrent: -1},
		{name: "OnFailure retries", spec: spec(api.RestartOnFailure, "one"), containers: []runtime.Container{exited("one", 0, 3)},
			wantNext: "one", wantCurrent: 0},
		{name: "Never fails the pod", spec: spec(api.RestartNever, "one", "two"), containers: []runtime.Container{exited("one", 0, 3)},
			wantFailed: "one", wantCurrent: 0},
		{name: "Never after success goes on", spec: spec(api.RestartNever, "one", "two"), containers: []runtime.Container{exited("one", 0, 0)},
			wantNext: "two", wantCurrent: -1},
		{name: "an app container exists: initialized before", spec: two,
			containers: []runtime.Container{exited("app", 3, 1)}, wantDone: true, wantCurrent: -1},
		{name: "records of the first pruned, the second completed", spec: two,
			containers: []runtime.Container{exited("two", 0, 0)}, wantDone: true, wantCurrent: -1},
		{name: "created but never started: start it", spec: two,
			containers: []runtime.Container{rc("one", "sb", 0, runtime.ContainerCreated, 0)}, wantNext: "one", wantCurrent: 0},
		{name: "runs of an old sandbox do not count: a new sandbox initializes again", spec: two, sandbox: "new",
			containers: []runtime.Container{rc("one", "old", 0, runtime.ContainerExited, 0), rc("two", "old", 0, runtime.ContainerExited, 0),
				rc("app", "old", 0, runtime.ContainerExited, 137)},
			wantNext: "one", wantCurrent: -1},
		{name: "without a sandbox every run counts", spec: two, sandbox: "any",
			containers: []runtime.Container{rc("one", "old", 0, runtime.ContainerExited, 0)}, wantNext: "two", wantCurrent: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := tc.sandbox
			switch sb {
			case "":
				sb = "sb"
			case "any":
				sb = ""
			}
			got := nextInitStep(tc.spec, sb, tc.containers)
			name := func(c *api.Container) string {
				if c == nil {
					return ""
				}
				return c.Name
			}
			cur := -1
			if got.Current != nil {
				cur = got.Current.Attempt
			}
			if got.Done != tc.wantDone || name(got.Next) != tc.wantNext || name(got.Failed) != tc.wantFailed || cur != tc.wantCurrent {
				t.Errorf("got done=%v next=%q failed=%q current attempt %d; want done=%v next=%q failed=%q current attempt %d",
					got.Done, name(got.Next), name(got.Failed), cur, tc.wantDone, tc.wantNext, tc.wantFailed, tc.wantCurrent)
			}
		})
	}
}

func TestPhaseOf(t *testing.T) {
	runningApp := []api.ContainerStatus{{Name: "app", State: api.ContainerState{Running: &api.ContainerStateRunning{}}}}
	waitingApp := []api.ContainerStatus{{Name: "app", State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: reasonPodInitializing}}}}
	tests := []struct {
		name   string
		policy api.RestartPolicy
		init   initStep
		apps   []api.ContainerStatus
		want   api.PodPhase
	}{
		{"initializing", api.RestartAlways, initStep{Next: &api.Container{Name: "one"}}, waitingApp, api.PodPending},
		{"init container in back-off", api.RestartOnFailure, initStep{Next: &api.Container{Name: "one"}, Current: &runtime.Container{}}, waitingApp, api.PodPending},
		{"init container failed under Never", api.RestartNever, initStep{Failed: &api.Container{Name: "one"}}, waitingApp, api.PodFailed},
		{"initialized and running", api.RestartAlways, initStep{Done: true}, runningApp, api.PodRunning},
		{"initialized, app not started", api.RestartAlways, initStep{Done: true}, waitingApp, api.PodPending},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := phaseOf(tc.policy, tc.init, tc.apps); got != tc.want {
				t.Errorf("phase %s, want %s", got, tc.want)
			}
		})
	}
}

func TestInitializedCondition(t *testing.T) {
	done := api.ContainerStatus{Name: "one", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 0}}}
	failed := api.ContainerStatus{Name: "two", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 3}}}
	waiting := api.ContainerStatus{Name: "three", State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: reasonPodInitializing}}}
	got := initializedCondition(initStep{Failed: &api.Container{Name: "two"}}, []api.ContainerStatus{done, failed, waiting})
	want := api.Condition{Type: api.PodInitialized, Status: api.ConditionFalse, Reason: reasonNotInitialized,
		Message: "containers with incomplete status: [two three]"}
	if got != want {
		t.Errorf("not initialized: %+v, want %+v", got, want)
	}
	if got := initializedCondition(initStep{Done: true}, []api.ContainerStatus{done}); got.Status != api.ConditionTrue || got.Reason != "" {
		t.Errorf("initialized: %+v", got)
	}
}
