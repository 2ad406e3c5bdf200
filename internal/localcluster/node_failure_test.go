package localcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// Killing one agent: with the node lifecycle defaults (10 s grace, 20 s
// eviction) its pods are recreated on the other nodes; when the agent
// returns, its stale containers are removed.
func TestKilledAgentPodsMoveAndStaleContainersGo(t *testing.T) {
	c := startCluster(t, 3)
	c.create(t, c.demoDeployment("web", 3))
	pods := c.readyPods(t, "app=web", 3, 60*time.Second)
	victim := c.Node(pods[0].Spec.NodeName)
	var onVictim []string
	for _, p := range pods {
		if p.Spec.NodeName == victim.Name {
			onVictim = append(onVictim, p.Name)
		}
	}
	victim.Stop() // the agent process dies; its containers keep running
	limit := controller.DefaultNodeMonitorGracePeriod + controller.DefaultPodEvictionTimeout + 5*time.Second
	took := eventually(t, limit+10*time.Second, "3 ready pods on the other nodes", func() (bool, string) {
		ready, elsewhere := 0, 0
		var states []string
		for _, p := range c.pods(t, "app=web") {
			states = append(states, p.Spec.NodeName+"/"+podState(p))
			if p.DeletionTimestamp == nil && api.IsPodReady(p) {
				ready++
				if p.Spec.NodeName != victim.Name {
					elsewhere++
				}
			}
		}
		return ready == 3 && elsewhere == 3, strings.Join(states, " ")
	})
	t.Logf("pods replaced %s after the agent stopped (grace %s + eviction %s)", took.Round(100*time.Millisecond),
		controller.DefaultNodeMonitorGracePeriod, controller.DefaultPodEvictionTimeout)
	if took > limit {
		t.Errorf("replacement took %s, want within %s", took, limit)
	}
	if n := len(dockerContainers(t, c.docker, victim.Name)); n == 0 {
		t.Fatal("the silent node's containers vanished without its agent")
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "stale containers removed", func() (bool, string) {
		n := len(dockerContainers(t, c.docker, victim.Name))
		left := 0
		for _, name := range onVictim {
			if _, err := c.Client.Pods("default").Get(c.ctx, name); err == nil {
				left++
			}
		}
		return n == 0 && left == 0, fmt.Sprintf("%d containers, %d old pods", n, left)
	})
}

// Logs and usage are served from the agents through the API.
func TestLogsAndStats(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("web", 1, readyWhenServing))
	p := c.readyPods(t, "app=web", 1, 60*time.Second)[0]
	for range 3 {
		if _, err := get("http://" + p.Status.PodIP + ":8080/"); err != nil {
			t.Fatalf("the pod does not answer at %s: %v", p.Status.PodIP, err)
		}
	}
	var buf bytes.Buffer
	if err := c.Client.PodLogs(c.ctx, "default", p.Name, client.LogOptions{TailLines: 100}, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "maestro-demo listening") || !strings.Contains(buf.String(), "GET /") {
		t.Fatalf("logs:\n%s", buf.String())
	}
	// Following streams new lines.
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	pr := &testenv.SyncBuffer{}
	go func() {
		_ = c.Client.PodLogs(ctx, "default", p.Name, client.LogOptions{Follow: true, TailLines: 1}, pr)
	}()
	time.Sleep(500 * time.Millisecond)
	_, _ = get("http://" + p.Status.PodIP + ":8080/?marker=followed")
	eventually(t, 4*time.Second, "followed line", func() (bool, string) { return strings.Contains(pr.String(), "followed"), pr.String() })
	cancel()

	_ = post("http://" + p.Status.PodIP + ":8080/burn?seconds=3&cores=1")
	eventually(t, 10*time.Second, "cpu and memory reported", func() (bool, string) {
		st, err := c.Client.PodStats(c.ctx, "default", p.Name)
		if err != nil || len(st.Containers) != 1 {
			return false, fmt.Sprint(st, err)
		}
		cs := st.Containers[0]
		return cs.CPUMilli > 300 && cs.MemoryBytes > 0, fmt.Sprintf("%+v", cs)
	})
	// The agent reports the same usage to the API server (metrics API).
	eventually(t, 10*time.Second, "usage in the metrics API", func() (bool, string) {
		m, err := c.Client.PodMetrics("default").Get(c.ctx, p.Name)
		if err != nil || len(m.Containers) != 1 {
			return false, fmt.Sprint(m, err)
		}
		mem := m.Containers[0].Usage[api.ResourceMemory]
		return mem.Value() > 0 && m.Labels["app"] == p.Labels["app"], fmt.Sprintf("%+v", m)
	})
	nodes, err := c.Client.NodeMetrics().List(c.ctx, client.ListOptions{})
	if err != nil || len(nodes) == 0 {
		t.Errorf("node metrics = %v, %v; want the agents' nodes", nodes, err)
	}
}
