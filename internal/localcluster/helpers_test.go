package localcluster_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"
	dfilters "github.com/docker/docker/api/types/filters"
	dclient "github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// lc is a local cluster under test, with the Docker engine it runs on.
type lc struct {
	*localcluster.Cluster
	docker *dclient.Client
	ctx    context.Context
	demo   string
	infra  string
}

var clusterSeq atomic.Int32

// startCluster runs a local cluster of n nodes on Docker. Node names and
// addresses are unique to the test, so clusters never touch each other's
// containers.
func startCluster(t *testing.T, n int, tweak ...func(*localcluster.Config)) *lc {
	return startClusterB(t, n, tweak...)
}

// startClusterB is startCluster for tests and benchmarks.
func startClusterB(t testing.TB, n int, tweak ...func(*localcluster.Config)) *lc {
	t.Helper()
	d := testenv.RequireDocker(t)
	demo, pause := testenv.DemoImage(t), testenv.PauseImage(t)
	// Node names unique to the test and the process: the same test running
	// at the same time from another checkout (whose agents may predate
	// cluster ids and own every container of their node names) never
	// shares a node name with this one.
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", t.Name(), os.Getpid()))
	seq := clusterSeq.Add(1)
	cfg := localcluster.Config{
		DataDir: t.TempDir(), Nodes: n, Listen: "127.0.0.1:0", ClientConfigPath: "-", UnsafeNoFsync: true,
		InfraImage:    pause,
		NodePrefix:    "t" + hex.EncodeToString(sum[:3]) + "-",
		AddressPrefix: fmt.Sprintf("127.0.%d.", 100+seq),
		// Distinct from every other cluster running on the machine (other
		// test packages, `maestro up`).
		ServiceCIDR: testenv.ServiceCIDR(),
		PodCIDR:     testenv.PodCIDR(),
		Log:         testenv.Logger(t),
		Agent: func(c *agent.Config) {
			c.RestartBackoffBase = time.Second
			c.ServerPort = 0
			c.ResyncInterval = 2 * time.Second
			c.MetricsInterval = time.Second
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := localcluster.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the local cluster: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		if err := c.Stop(stopCtx); err != nil {
			t.Errorf("stopping the local cluster: %v", err)
		}
		cancel()
		// Nothing of this cluster may be left in the engine.
		for _, n := range c.Nodes {
			if left := dockerContainers(t, d, n.Name); len(left) > 0 {
				t.Errorf("containers of %s left after stop: %v", n.Name, left)
			}
		}
	})
	return &lc{Cluster: c, docker: d, ctx: ctx, demo: demo, infra: pause}
}

// demoDeployment runs the demo image.
func (c *lc) demoDeployment(name string, replicas int32, mutate ...func(*api.Deployment)) *api.Deployment {
	return testenv.DemoDeployment(c.demo, name, replicas, mutate...)
}

// readyWhenServing gives a demo deployment's container a readiness probe
// on /readyz every second, so a ready pod is one that answers HTTP (without
// a probe, ready means only that the container started).
func readyWhenServing(d *api.Deployment) {
	d.Spec.Template.Spec.Containers[0].ReadinessProbe = &api.Probe{
		ProbeHandler:  api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromString("http")}},
		PeriodSeconds: 1,
	}
}

func (c *lc) create(t testing.TB, d *api.Deployment) {
	t.Helper()
	if _, err := c.Client.Deployments(d.Namespace).Create(c.ctx, d); err != nil {
		t.Fatal(err)
	}
}

func (c *lc) pods(t testing.TB, selector string) []*api.Pod {
	t.Helper()
	pods, _, err := c.Client.Pods("default").List(c.ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// readyPods waits for n ready pods (not being deleted) of the selector.
func (c *lc) readyPods(t testing.TB, selector string, n int, timeout time.Duration) []*api.Pod {
	t.Helper()
	var ready []*api.Pod
	eventually(t, timeout, fmt.Sprintf("%d ready pods of %s", n, selector), func() (bool, string) {
		ready = ready[:0]
		var states []string
		for _, p := range c.pods(t, selector) {
			if p.DeletionTimestamp == nil && api.IsPodReady(p) {
				ready = append(ready, p)
			}
			states = append(states, p.Name+":"+podState(p))
		}
		return len(ready) == n, strings.Join(states, " ")
	})
	return ready
}

func podState(p *api.Pod) string {
	s := string(p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			s += "/" + cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			s += fmt.Sprintf("/exit%d", cs.State.Terminated.ExitCode)
		case cs.Ready:
			s += "/ready"
		}
	}
	return s
}

func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var state string
	for {
		ok, s := cond()
		if ok {
			return time.Since(start)
		}
		state = s
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches a URL with a short timeout.
func get(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

func post(url string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Post(url, "text/plain", strings.NewReader(""))
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// dockerContainers lists the engine's containers of a node (any state).
func dockerContainers(t testing.TB, d *dclient.Client, node string) []dcontainer.Summary {
	t.Helper()
	cs, err := d.ContainerList(context.Background(), dcontainer.ListOptions{All: true,
		Filters: dfilters.NewArgs(dfilters.Arg("label", runtime.LabelNode+"="+node))})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// appContainer finds the running app container of a pod in the engine.
func (c *lc) appContainer(t testing.TB, p *api.Pod, name string) dcontainer.Summary {
	t.Helper()
	cs, err := c.docker.ContainerList(c.ctx, dcontainer.ListOptions{Filters: dfilters.NewArgs(
		dfilters.Arg("label", runtime.LabelPodUID+"="+p.UID), dfilters.Arg("label", runtime.LabelContainerName+"="+name))})
	if err != nil || len(cs) != 1 {
		t.Fatalf("running containers %s of pod %s: %d (%v)", name, p.Name, len(cs), err)
	}
	return cs[0]
}

func containerStatus(p *api.Pod, name string) api.ContainerStatus {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	return api.ContainerStatus{}
}

func httpPost(url, body string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), nil
}

var removeForce = dcontainer.RemoveOptions{Force: true}
