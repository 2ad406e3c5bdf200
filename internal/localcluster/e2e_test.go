package localcluster_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// A 3-replica deployment spreads over 3 nodes, every ready pod answers
// HTTP on its pod IP, and the engine runs exactly one sandbox and one app
// container per pod.
func TestDeploymentRunsAndSpreads(t *testing.T) {
	c := startCluster(t, 3)
	c.create(t, c.demoDeployment("web", 3, readyWhenServing))
	pods := c.readyPods(t, "app=web", 3, 60*time.Second)
	nodes := map[string]bool{}
	for _, p := range pods {
		nodes[p.Spec.NodeName] = true
		body, err := get("http://" + p.Status.PodIP + ":8080/")
		if err != nil || !strings.Contains(body, "pod="+p.Name) {
			t.Errorf("pod %s at %s answered %q, %v", p.Name, p.Status.PodIP, body, err)
		}
	}
	if len(nodes) != 3 {
		t.Errorf("pods on %d nodes, want 3", len(nodes))
	}
	for _, n := range c.Nodes {
		var roles []string
		for _, dc := range dockerContainers(t, c.docker, n.Name) {
			if dc.State == "running" {
				roles = append(roles, dc.Labels[runtime.LabelRole])
			}
		}
		slices.Sort(roles)
		if !slices.Equal(roles, []string{runtime.RoleContainer, runtime.RoleSandbox}) {
			t.Errorf("node %s runs %v, want one sandbox and one container", n.Name, roles)
		}
	}
}

// A killed container is restarted (restart count 1) and the pod is Ready again.
func TestKilledContainerIsRestarted(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("web", 1))
	p := c.readyPods(t, "app=web", 1, 60*time.Second)[0]
	old := c.appContainer(t, p, "app")
	if err := c.docker.ContainerKill(c.ctx, old.ID, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "restarted and ready", func() (bool, string) {
		cur, err := c.Client.Pods("default").Get(c.ctx, p.Name)
		if err != nil {
			return false, err.Error()
		}
		cs := containerStatus(cur, "app")
		return cs.RestartCount == 1 && api.IsPodReady(cur) && cs.ContainerID != "docker://"+old.ID, podState(cur)
	})
	cur, _ := c.Client.Pods("default").Get(c.ctx, p.Name)
	if lt := containerStatus(cur, "app").LastState.Terminated; lt == nil || lt.ExitCode != 137 {
		t.Errorf("lastState after a kill: %+v, want terminated with exit code 137", lt)
	}
}

// A failing liveness probe restarts the container; a failing readiness
// probe makes the pod unready without a restart.
func TestLivenessAndReadinessProbes(t *testing.T) {
	c := startCluster(t, 1)
	probe := func(path string) *api.Probe {
		return &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: path, Port: api.FromString("http")}},
			PeriodSeconds: 1, FailureThreshold: 2}
	}
	c.create(t, c.demoDeployment("web", 2, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].LivenessProbe = probe("/healthz")
		d.Spec.Template.Spec.Containers[0].ReadinessProbe = probe("/readyz")
	}))
	pods := c.readyPods(t, "app=web", 2, 60*time.Second)
	sick, shy := pods[0], pods[1]
	if err := post("http://" + sick.Status.PodIP + ":8080/fail-health"); err != nil {
		t.Fatal(err)
	}
	if err := post("http://" + shy.Status.PodIP + ":8080/unready"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "liveness failure restarts, readiness failure unreadies", func() (bool, string) {
		a, _ := c.Client.Pods("default").Get(c.ctx, sick.Name)
		b, _ := c.Client.Pods("default").Get(c.ctx, shy.Name)
		ok := containerStatus(a, "app").RestartCount == 1 && !api.IsPodReady(b)
		return ok, fmt.Sprintf("sick %s restarts=%d; shy %s", podState(a), containerStatus(a, "app").RestartCount, podState(b))
	})
	b, _ := c.Client.Pods("default").Get(c.ctx, shy.Name)
	if n := containerStatus(b, "app").RestartCount; n != 0 {
		t.Fatalf("an unready container was restarted %d times", n)
	}
	// The restarted container is healthy again, and ready.
	c.readyPods(t, "app=web", 1, 20*time.Second)
}

// A container that exits 1 at once ends in CrashLoopBackOff, restarted
// after growing delays.
func TestCrashLoopBackOff(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("crash", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Args = []string{"--exit-after=100ms", "--exit-code=1"}
	}))
	// Each run's start, as the runtime recorded it (the current run's or,
	// while the next waits, the last one's): the gaps between starts are
	// the back-off plus the 100 ms run, free of how soon this poll or the
	// agent's status noticed.
	starts := map[time.Time]bool{}
	eventually(t, 60*time.Second, "4 restarts in CrashLoopBackOff", func() (bool, string) {
		pods := c.pods(t, "app=crash")
		if len(pods) != 1 {
			return false, fmt.Sprint(len(pods), " pods")
		}
		cs := containerStatus(pods[0], "app")
		for _, st := range []api.ContainerState{cs.State, cs.LastState} {
			if r := st.Running; r != nil && !r.StartedAt.IsZero() {
				starts[r.StartedAt] = true
			}
			if r := st.Terminated; r != nil && !r.StartedAt.IsZero() {
				starts[r.StartedAt] = true
			}
		}
		w := cs.State.Waiting
		return cs.RestartCount >= 4 && w != nil && w.Reason == api.ReasonCrashLoopBackOff, podState(pods[0])
	})
	sorted := slices.SortedFunc(maps.Keys(starts), time.Time.Compare)
	var gaps []time.Duration
	for i := 1; i < len(sorted); i++ {
		gaps = append(gaps, sorted[i].Sub(sorted[i-1]).Round(100*time.Millisecond))
	}
	t.Logf("time between the runs' starts: %v (back-off base 1s: waits of 0, 1, 2, 4 s after a 100 ms run)", gaps)
	// The agent's back-off doubled: its events name each wait.
	pods := c.pods(t, "app=crash")
	evs, _, err := c.Client.Events("default").List(c.ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var waits []string
	for _, e := range evs {
		if e.InvolvedObject.Name == pods[0].Name && e.Reason == "BackOff" {
			waits = append(waits, strings.Fields(e.Message)[1])
		}
	}
	for _, want := range []string{"1s", "2s", "4s"} {
		if !slices.Contains(waits, want) {
			t.Errorf("back-off events name waits %v; want 1s, 2s and 4s among them", waits)
			break
		}
	}
	// And the restarts honoured them: each of the last three gaps is at
	// least its wait (less 1 s: the recorded times are whole seconds, as
	// Kubernetes' are), and the 4 s one outlasts the 1 s one.
	n := len(gaps)
	if n < 3 {
		t.Fatalf("saw %d runs' starts, want at least 4", len(sorted))
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if g := gaps[n-3+i]; g < want-time.Second {
			t.Errorf("restart gaps %v: gap %d is %s, shorter than its %s back-off", gaps, n-3+i, g, want)
		}
	}
	if gaps[n-1] <= gaps[n-3] {
		t.Errorf("restart gaps %v do not grow", gaps)
	}
}

// Config map env and file, a secret file, and an emptyDir written by one
// container and read by the other.
func TestConfigSecretsAndSharedVolume(t *testing.T) {
	c := startCluster(t, 1)
	ctx := c.ctx
	if _, err := c.Client.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "settings"},
		Data: map[string]string{"GREETING": "hello", "app.conf": "mode=fast\n"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cret"}}); err != nil {
		t.Fatal(err)
	}
	c.create(t, c.demoDeployment("cfg", 1, func(d *api.Deployment) {
		s := &d.Spec.Template.Spec
		s.Volumes = []api.Volume{
			{Name: "settings", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "settings"}}},
			{Name: "db", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "db"}}},
			{Name: "shared", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		}
		app := &s.Containers[0]
		app.Env = append(app.Env, api.EnvVar{Name: "GREETING", ValueFrom: &api.EnvVarSource{
			ConfigMapKeyRef: &api.KeySelector{Name: "settings", Key: "GREETING"}}})
		app.VolumeMounts = []api.VolumeMount{{Name: "settings", MountPath: "/etc/app"}, {Name: "db", MountPath: "/etc/db"},
			{Name: "shared", MountPath: "/shared"}}
		side := *app
		side.Name, side.Args, side.Ports, side.Env = "side", []string{"--port=8081"}, nil, nil
		side.VolumeMounts = []api.VolumeMount{{Name: "shared", MountPath: "/data"}}
		s.Containers = append(s.Containers, side)
	}))
	p := c.readyPods(t, "app=cfg", 1, 60*time.Second)[0]
	base := "http://" + p.Status.PodIP
	for _, tc := range []struct{ url, want string }{
		{base + ":8080/env", "GREETING=hello"},
		{base + ":8080/file?path=/etc/app/app.conf", "mode=fast"},
		{base + ":8080/file?path=/etc/db/password", "s3cret"},
	} {
		if body, err := get(tc.url); err != nil || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %q, %v; want %q", tc.url, body, err, tc.want)
		}
	}
	// One container writes, the other reads.
	resp, err := httpPost(base+":8080/file?path=/shared/note", "written by app")
	if err != nil {
		t.Fatal(resp, err)
	}
	if body, err := get(base + ":8081/file?path=/data/note"); err != nil || body != "written by app" {
		t.Fatalf("side container read %q, %v", body, err)
	}
}

// Memory and cpu limits reach the engine.
func TestResourceLimits(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("limited", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources = api.ResourceRequirements{
			Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("250m")},
			Limits:   api.ResourceList{api.ResourceCPU: resource.MustParse("500m"), api.ResourceMemory: resource.MustParse("64Mi")},
		}
	}))
	p := c.readyPods(t, "app=limited", 1, 60*time.Second)[0]
	info, err := c.docker.ContainerInspect(c.ctx, c.appContainer(t, p, "app").ID)
	if err != nil {
		t.Fatal(err)
	}
	if hc := info.HostConfig; hc.NanoCPUs != 500_000_000 || hc.Memory != 64<<20 || hc.CPUShares != 256 {
		t.Fatalf("docker inspect: NanoCPUs=%d Memory=%d CPUShares=%d; want 500000000, %d, 256", hc.NanoCPUs, hc.Memory, hc.CPUShares, 64<<20)
	}
}

// An agent stopped for 5 s and started again restarts no container.
func TestAgentRestartAdoptsContainers(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("web", 2))
	before := c.readyPods(t, "app=web", 2, 60*time.Second)
	ids := map[string]string{}
	for _, p := range before {
		ids[p.Name] = c.appContainer(t, p, "app").ID
	}
	node := c.Nodes[0]
	node.Stop()
	time.Sleep(5 * time.Second)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // a few sync rounds of the new agent
	after := c.readyPods(t, "app=web", 2, 20*time.Second)
	for _, p := range after {
		if id := c.appContainer(t, p, "app").ID; id != ids[p.Name] || containerStatus(p, "app").RestartCount != 0 {
			t.Errorf("pod %s: container %s (was %s), restarts %d; want the same container", p.Name, id, ids[p.Name], containerStatus(p, "app").RestartCount)
		}
	}
}

// Deleting a deployment removes all its containers within the grace period.
func TestDeletingADeploymentRemovesItsContainers(t *testing.T) {
	c := startCluster(t, 2)
	c.create(t, c.demoDeployment("web", 4))
	c.readyPods(t, "app=web", 4, 60*time.Second)
	start := time.Now()
	if err := c.Client.Deployments("default").Delete(c.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 20*time.Second, "containers gone", func() (bool, string) {
		n := 0
		for _, node := range c.Nodes {
			n += len(dockerContainers(t, c.docker, node.Name))
		}
		return n == 0 && len(c.pods(t, "app=web")) == 0, fmt.Sprint(n, " containers")
	})
	t.Logf("containers and pods gone %s after the delete", took.Round(100*time.Millisecond))
	if time.Since(start) > 5*time.Second+2*time.Second {
		t.Fatalf("took %s, want within the 5 s grace period (+2 s)", time.Since(start))
	}
}

// An image that cannot be pulled gives ImagePullBackOff with the engine's message.
func TestUnpullableImage(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("ghost", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "registry.invalid/maestro/ghost:1"
		d.Spec.Template.Spec.Containers[0].ImagePullPolicy = api.PullIfNotPresent
	}))
	eventually(t, 60*time.Second, "ImagePullBackOff", func() (bool, string) {
		pods := c.pods(t, "app=ghost")
		if len(pods) != 1 {
			return false, "no pod"
		}
		w := containerStatus(pods[0], "app").State.Waiting
		if w == nil {
			return false, podState(pods[0])
		}
		return w.Reason == api.ReasonImagePullBackOff && strings.Contains(w.Message, "registry.invalid"), w.Reason + ": " + w.Message
	})
}
