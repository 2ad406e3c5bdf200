package localcluster_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/cli"
	"github.com/maestro-dev/maestro/internal/localcluster"
)

// Init containers run one at a time, in order, each to completion, before
// the app containers, sharing the pod's volumes; a failing one is retried
// with back-off (Init:CrashLoopBackOff) or, with restartPolicy Never, fails
// the pod; they are not run again when an app container restarts or the
// agent restarts; status, `maestro get pods` and `maestro logs -c` show them.
func TestInitContainers(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config")
	c := startCluster(t, 1, func(cfg *localcluster.Config) {
		cfg.ClientConfigPath = config
		// Back-off 0 s, then 2 s: the second failure is retried after the
		// agent has noticed it (runtime poll, 1 s), so CrashLoopBackOff shows.
		tweak := cfg.Agent
		cfg.Agent = func(a *agent.Config) { tweak(a); a.RestartBackoffBase = 2 * time.Second }
	})
	task := func(name string, args ...string) api.Container {
		return api.Container{Name: name, Image: c.demo, ImagePullPolicy: api.PullNever, Args: append([]string{"task"}, args...),
			VolumeMounts: []api.VolumeMount{{Name: "work", MountPath: "/work"}}}
	}
	c.createPod(t, "ordered", api.RestartAlways,
		task("first", "--sleep=3s", "--append=/work/order=first"),
		task("second", "--append=/work/order=second"))
	c.createPod(t, "flaky", api.RestartOnFailure,
		task("flaky", "--attempts-file=/work/tries", "--fail-times=2", "--exit-code=3", "--append=/work/order=flaky"))
	c.createPod(t, "doomed", api.RestartNever,
		task("migrate", "--attempts-file=/work/tries", "--fail-times=100", "--exit-code=5"))

	// While the first init container runs, the pod is Pending and not
	// initialized, and nothing else of it runs.
	seen := map[string]map[string]bool{"ordered": {}, "flaky": {}, "doomed": {}}
	watchStatuses := func() string {
		out := c.maestro(t, config, "get", "pods")
		for name, statuses := range seen {
			statuses[getPodsStatus(out, name)] = true
		}
		return out
	}
	eventually(t, 60*time.Second, "ordered pod initializing", func() (bool, string) {
		out := watchStatuses()
		p := c.pod(t, "ordered")
		first := initStatus(p, "first")
		return first.State.Running != nil, out
	})
	p := c.pod(t, "ordered")
	if p.Status.Phase != api.PodPending || conditionStatus(p, api.PodInitialized) != api.ConditionFalse ||
		initStatus(p, "second").State.Waiting == nil || containerStatus(p, "app").State.Waiting == nil {
		t.Errorf("while the first init container runs: %s, want Pending, not initialized, the rest waiting", describeInit(p))
	}
	if got := getPodsStatus(watchStatuses(), "ordered"); got != "Init:0/2" {
		t.Errorf("maestro get pods shows %q for the pod running its first init container, want Init:0/2", got)
	}
	if n := len(c.podContainers(t, p)); n != 1 {
		t.Errorf("%d containers of the pod exist while its first init container runs, want 1", n)
	}

	// Both init containers ran in order, each once, before the app, which
	// sees what they wrote in the shared emptyDir.
	ordered := c.readyPod(t, "ordered", watchStatuses)
	c.expectFile(t, ordered, "/work/order", "first\nsecond\n")
	for _, name := range []string{"first", "second"} {
		cs := initStatus(ordered, name)
		if term := cs.State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" || !cs.Ready || cs.RestartCount != 0 {
			t.Errorf("init container %s after initialization: %+v, want terminated with 0 (Completed), ready, no restarts", name, cs)
		}
	}
	if ordered.Status.Phase != api.PodRunning || conditionStatus(ordered, api.PodInitialized) != api.ConditionTrue {
		t.Errorf("initialized pod: %s", describeInit(ordered))
	}
	first := initStatus(ordered, "first").State.Terminated
	if app := containerStatus(ordered, "app").State.Running; app == nil || app.StartedAt.Before(first.FinishedAt) {
		t.Errorf("app container started %+v, before the first init container finished (%s)", app, first.FinishedAt)
	}
	var logs bytes.Buffer
	if err := c.Client.PodLogs(c.ctx, "default", "ordered", client.LogOptions{Container: "second"}, &logs); err != nil ||
		!strings.Contains(logs.String(), `appended "second" to /work/order`) {
		t.Errorf("logs of init container second: %q, %v", logs.String(), err)
	}
	if out := c.maestro(t, config, "logs", "ordered", "-c", "first"); !strings.Contains(out, `appended "first" to /work/order`) {
		t.Errorf("maestro logs ordered -c first: %q", out)
	}

	// A failing init container is retried with back-off until it succeeds.
	flaky := c.readyPod(t, "flaky", watchStatuses)
	cs := initStatus(flaky, "flaky")
	if term, last := cs.State.Terminated, cs.LastState.Terminated; cs.RestartCount != 2 || term == nil || term.ExitCode != 0 ||
		last == nil || last.ExitCode != 3 || last.Reason != "Error" {
		t.Errorf("init container that failed twice: %+v, want 2 restarts, terminated 0, last terminated 3 (Error)", cs)
	}
	c.expectFile(t, flaky, "/work/tries", "run 1\nrun 2\nrun 3\n")
	c.expectFile(t, flaky, "/work/order", "flaky\n")
	if !seen["flaky"]["Init:CrashLoopBackOff"] {
		t.Errorf("maestro get pods never showed Init:CrashLoopBackOff for the failing init container; saw %v", seen["flaky"])
	}

	// With restartPolicy Never a failed init container fails the pod; the
	// app container never starts.
	var doomed *api.Pod
	eventually(t, 30*time.Second, "pod with a failed init container fails", func() (bool, string) {
		watchStatuses()
		doomed = c.pod(t, "doomed")
		return doomed.Status.Phase == api.PodFailed, describeInit(doomed)
	})
	time.Sleep(3 * time.Second) // long enough for a retry (the first is at once)
	doomed = c.pod(t, "doomed")
	cs = initStatus(doomed, "migrate")
	if term := cs.State.Terminated; term == nil || term.ExitCode != 5 || term.Reason != "Error" || cs.RestartCount != 0 {
		t.Errorf("failed init container: %+v, want terminated 5 (Error), not restarted", cs)
	}
	if cond := api.FindCondition(doomed.Status.Conditions, api.PodInitialized); cond == nil || cond.Status != api.ConditionFalse ||
		cond.Reason != "ContainersNotInitialized" || !strings.Contains(cond.Message, "migrate") {
		t.Errorf("Initialized condition of the failed pod: %+v, want False (ContainersNotInitialized) naming migrate", cond)
	}
	if cs := c.podContainers(t, doomed); len(cs) != 1 || cs[0].Labels[runtime.LabelContainerName] != "migrate" {
		t.Errorf("containers of the failed pod: %d, want only the one run of migrate", len(cs))
	}
	if got := getPodsStatus(watchStatuses(), "doomed"); got != "Init:Error" {
		t.Errorf("maestro get pods shows %q for the failed pod, want Init:Error", got)
	}

	// An app container that restarts does not run the init containers again.
	old := c.appContainer(t, ordered, "app")
	if err := c.docker.ContainerKill(c.ctx, old.ID, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "app container restarted", func() (bool, string) {
		p := c.pod(t, "ordered")
		return containerStatus(p, "app").RestartCount == 1 && api.IsPodReady(p), describeInit(p)
	})
	ordered = c.pod(t, "ordered")
	c.expectFile(t, ordered, "/work/order", "first\nsecond\n")

	// Nor does an agent restart: the new agent adopts the pods as initialized.
	node := c.Nodes[0]
	node.Stop()
	time.Sleep(2 * time.Second)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // a few sync rounds of the new agent
	for _, name := range []string{"ordered", "flaky"} {
		p := c.readyPod(t, name, watchStatuses)
		for _, cs := range p.Status.InitContainerStatuses {
			if term := cs.State.Terminated; term == nil || term.ExitCode != 0 {
				t.Errorf("pod %s after the agent restart: init container %s %+v", name, cs.Name, cs)
			}
		}
		if conditionStatus(p, api.PodInitialized) != api.ConditionTrue {
			t.Errorf("pod %s after the agent restart: %s", name, describeInit(p))
		}
	}
	c.expectFile(t, c.pod(t, "ordered"), "/work/order", "first\nsecond\n")
	c.expectFile(t, c.pod(t, "flaky"), "/work/tries", "run 1\nrun 2\nrun 3\n")
	if p := c.pod(t, "flaky"); initStatus(p, "flaky").RestartCount != 2 {
		t.Errorf("restart count of the flaky init container after the agent restart: %d, want 2", initStatus(p, "flaky").RestartCount)
	}
	if got := getPodsStatus(watchStatuses(), "ordered"); got != "Running" {
		t.Errorf("maestro get pods shows %q for the initialized pod, want Running", got)
	}
	t.Logf("statuses maestro get pods showed: %v", seen)
}

// createPod creates a bare pod of the demo app with these init containers
// and an emptyDir "work" every container mounts at /work.
func (c *lc) createPod(t *testing.T, name string, policy api.RestartPolicy, inits ...api.Container) {
	t.Helper()
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"test": "init"}},
		Spec: api.PodSpec{
			RestartPolicy:                 policy,
			TerminationGracePeriodSeconds: api.Ptr[int64](2),
			Volumes:                       []api.Volume{{Name: "work", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}},
			InitContainers:                inits,
			Containers: []api.Container{{Name: "app", Image: c.demo, ImagePullPolicy: api.PullNever,
				VolumeMounts: []api.VolumeMount{{Name: "work", MountPath: "/work"}},
				ReadinessProbe: &api.Probe{PeriodSeconds: 1,
					ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromInt(8080)}}}}},
		}}
	if _, err := c.Client.Pods("default").Create(c.ctx, p); err != nil {
		t.Fatal(err)
	}
}

func (c *lc) pod(t *testing.T, name string) *api.Pod {
	t.Helper()
	p, err := c.Client.Pods("default").Get(c.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readyPod waits for the pod to be ready, calling each (a status sampler) as it polls.
func (c *lc) readyPod(t *testing.T, name string, each func() string) *api.Pod {
	t.Helper()
	var p *api.Pod
	eventually(t, 60*time.Second, "pod "+name+" ready", func() (bool, string) {
		each()
		p = c.pod(t, name)
		return api.IsPodReady(p), describeInit(p)
	})
	return p
}

// podContainers lists the engine's containers of a pod (any state).
func (c *lc) podContainers(t *testing.T, p *api.Pod) []runtime.Container {
	t.Helper()
	var out []runtime.Container
	for _, dc := range dockerContainers(t, c.docker, p.Spec.NodeName) {
		if dc.Labels[runtime.LabelPodUID] == p.UID && dc.Labels[runtime.LabelRole] == runtime.RoleContainer {
			out = append(out, runtime.Container{ID: dc.ID, Labels: dc.Labels})
		}
	}
	return out
}

// expectFile reads a file through the pod's app (GET /file).
func (c *lc) expectFile(t *testing.T, p *api.Pod, path, want string) {
	t.Helper()
	body, err := get("http://" + p.Status.PodIP + ":8080/file?path=" + path)
	if err != nil || body != want {
		t.Errorf("pod %s: %s holds %q (%v), want %q", p.Name, path, body, err, want)
	}
}

// maestro runs the CLI against the cluster and returns what it printed.
func (c *lc) maestro(t *testing.T, config string, args ...string) string {
	t.Helper()
	root := cli.NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--config", config}, args...))
	if err := root.ExecuteContext(c.ctx); err != nil {
		t.Fatalf("maestro %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// getPodsStatus is the STATUS column of a pod's row in `maestro get pods`.
func getPodsStatus(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == name {
			return f[2]
		}
	}
	return ""
}

func initStatus(p *api.Pod, name string) api.ContainerStatus {
	for _, cs := range p.Status.InitContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	return api.ContainerStatus{}
}

func conditionStatus(p *api.Pod, typ string) api.ConditionStatus {
	if c := api.FindCondition(p.Status.Conditions, typ); c != nil {
		return c.Status
	}
	return ""
}

// describeInit is the pod's phase, Initialized condition and container states, for failure messages.
func describeInit(p *api.Pod) string {
	s := fmt.Sprintf("%s initialized=%s", p.Status.Phase, conditionStatus(p, api.PodInitialized))
	for _, list := range [][]api.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			s += " " + cs.Name + "="
			switch {
			case cs.State.Waiting != nil:
				s += "waiting:" + cs.State.Waiting.Reason
			case cs.State.Running != nil:
				s += "running"
			case cs.State.Terminated != nil:
				s += fmt.Sprintf("exit%d", cs.State.Terminated.ExitCode)
			}
			s += fmt.Sprintf("(restarts %d)", cs.RestartCount)
		}
	}
	return s
}
