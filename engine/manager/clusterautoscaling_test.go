package manager_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/internal/podcapacity"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestClusterAutoscaling: a local pool (real agents on Docker) with
// autoscaling, min 1, max 4. Three pods of 60% of a node's cpu each do not
// fit its one node: the pool adds nodes until all three run (reported:
// unschedulable -> Running per pod). With the pods gone, the pool shrinks
// back to 1 after the shortened unneeded time, each removed node drained,
// with no failed request to a service whose pods were on the removed
// nodes.
// A pod asking for more cpu than any pool's node has fails a rollout wait
// at once with the reason, and the pool does not grow for it.
func TestClusterAutoscaling(t *testing.T) {
	const unneeded = 3 * time.Second
	lp := startLocalPoolsWith(t, nil, func(c *manager.Config) {
		c.ClusterAutoscaler = clusterautoscaler.Config{ScanInterval: 500 * time.Millisecond, ScaleDownUnneededTime: unneeded}
	})
	p := localPool("web", 1)
	p.Spec.MinSize, p.Spec.MaxSize, p.Spec.Autoscaling = 1, 4, true
	if _, err := lp.Client.NodePools().Create(lp.Ctx, p); err != nil {
		t.Fatal(err)
	}
	first := lp.waitReady(t, "web", 1, 90*time.Second)
	n, err := lp.Client.Nodes().Get(lp.Ctx, first[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	cpu := n.Status.Allocatable[api.ResourceCPU]
	if len(n.Status.Allocatable) == 0 {
		cpu = n.Status.Capacity[api.ResourceCPU]
	}
	request := resource.NewMilliQuantity(cpu.MilliValue()*6/10, resource.DecimalSI)

	times := watchPods(t, lp, "app=load")
	d := testenv.DemoDeployment(lp.demo, "load", 3, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: request}
	})
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, d); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 3*time.Minute, "3 load pods Running on 3 nodes", func() (bool, string) {
		nodes := map[string]bool{}
		for _, p := range lp.Pods(t, "default", "app=load") {
			if p.Status.Phase == api.PodRunning && p.DeletionTimestamp == nil {
				nodes[p.Spec.NodeName] = true
			}
		}
		return len(nodes) == 3, fmt.Sprint(nodes)
	})
	lp.waitReady(t, "web", 3, 90*time.Second)
	times.report(t)
	if evs := eventsOf(t, lp.Cluster, "NodePool", "web"); !slices.ContainsFunc(evs, func(e string) bool { return strings.HasPrefix(e, api.ReasonScaledUpGroup) }) {
		t.Errorf("pool events %q; want %s", evs, api.ReasonScaledUpGroup)
	}

	// A service spread over the three nodes (created now so it spreads)
	// answers throughout the scale-down. Its pods keep serving 2 s after
	// SIGTERM, as an application behind a service must: a drained pod is
	// told to stop as it leaves the endpoints, and a client that read them
	// a moment before still sends to it (without the delay, 2 of 465
	// requests got EOF in one CI run).
	web := testenv.DemoDeployment(lp.demo, "svc", 3, func(d *api.Deployment) {
		ct := &d.Spec.Template.Spec.Containers[0]
		ct.Resources.Requests = api.ResourceList{api.ResourceCPU: resource.MustParse("10m")}
		ct.Args = []string{"--shutdown-delay=2s"}
	})
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, web); err != nil {
		t.Fatal(err)
	}
	svc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "svc", Namespace: "default"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "svc"}, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromInt(8080)}}}}
	if _, err := lp.Client.Services("default").Create(lp.Ctx, svc); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 2*time.Minute, "svc's 3 pods Ready", func() (bool, string) {
		ready := 0
		for _, p := range lp.Pods(t, "default", "app=svc") {
			if api.IsPodReady(p) {
				ready++
			}
		}
		return ready == 3, fmt.Sprint(ready)
	})
	svcNodes := map[string]int{}
	for _, p := range lp.Pods(t, "default", "app=svc") {
		svcNodes[p.Spec.NodeName]++
	}
	load := serviceLoad(t, lp, "svc")
	warm := time.Now()
	for n, _ := load.peek(); n < 20 && time.Since(warm) < time.Minute; n, _ = load.peek() {
		time.Sleep(100 * time.Millisecond) // the load runs before the scale-down starts
	}

	before, _ := load.peek()
	start := time.Now()
	cluster.Update(t, lp.Ctx, lp.Client.Deployments("default"), "load", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr[int32](0) })
	lp.waitReady(t, "web", 1, 3*time.Minute)
	t.Logf("scale-down: 3 -> 1 nodes %s after the load went (unneeded time %s)", time.Since(start).Round(time.Millisecond), unneeded)
	cluster.Eventually(t, time.Minute, "svc's 3 pods Ready on the remaining node", func() (bool, string) {
		ready := 0
		for _, p := range lp.Pods(t, "default", "app=svc") {
			if api.IsPodReady(p) && p.DeletionTimestamp == nil {
				ready++
			}
		}
		return ready == 3, fmt.Sprint(ready)
	})
	moved := 0
	for node, n := range svcNodes {
		if _, err := lp.Client.Nodes().Get(lp.Ctx, node); api.IsNotFound(err) {
			moved += n
		}
	}
	t.Logf("%d of svc's 3 pods were on the removed nodes (drained)", moved)
	// The scale-down is covered when requests ran all through it: at
	// least two a second of it on average.
	window := time.Since(start)
	total, failed := load.stop()
	during, want := total-before, int(2*window.Seconds())
	if during < want || len(failed) > 0 {
		t.Errorf("through the service during the %s scale-down: %d requests, %d failed (%v); want at least %d and 0 failed", window.Round(time.Millisecond), during, len(failed), failed, want)
	} else {
		t.Logf("through the service during the %s scale-down: %d requests (%d in all), 0 failed", window.Round(time.Millisecond), during, total)
	}
	if got := lp.processes(t); len(got) != 1 {
		t.Errorf("agent processes %v, want 1", got)
	}

	start = time.Now()
	huge := testenv.DemoDeployment(lp.demo, "huge", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources.Requests = api.ResourceList{api.ResourceCPU: resource.MustParse("512")}
	})
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, huge); err != nil {
		t.Fatal(err)
	}
	var never error
	cluster.Eventually(t, 30*time.Second, "the rollout wait fails for the huge pod", func() (bool, string) {
		r, err := podcapacity.ForDeployment(lp.Ctx, lp.Client, huge)
		never = r.Never
		return never != nil, fmt.Sprintf("%+v, %v", r, err)
	})
	t.Logf("pod too big for every pool reported %s after its deployment was created: %v", time.Since(start).Round(time.Millisecond), never)
	if !strings.Contains(never.Error(), "insufficient cpu") || !strings.Contains(never.Error(), "node pool web") {
		t.Errorf("reason %q; want it to name the pool and insufficient cpu", never)
	}
	if p, _ := lp.Client.NodePools().Get(lp.Ctx, "web"); *p.Spec.Size != 1 {
		t.Errorf("pool size %d, want 1 (no scale-up for a pod no node could hold)", *p.Spec.Size)
	}
}

// serviceLoad sends requests to the ready endpoints of service name in
// turn, as maestro's service proxy does (local pools' machines run none on
// this host): a connection per request, and an endpoint that refuses the
// connection passes it to the next one. It runs until its stop, which
// reports how many requests were sent and the failures.
// loadWorkers is how many clients serviceLoad runs at once.
const loadWorkers = 4

func serviceLoad(t *testing.T, lp *localPools, name string) *loadRun {
	ctx, cancel := context.WithCancel(lp.Ctx)
	// A pod that just went may not refuse but not answer (its address gone
	// from the bridge): a dial timeout passes the request to the next
	// endpoint, as a refusal does. 2 s: on a loaded CI machine (-race, 2
	// cores) a live pod's accept stalled past 1 s. (The machines here share
	// this host's network namespace, and the first machine's pods are not
	// reachable from it: every request that tries them first waits.)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dialer.DialContext}}
	l := &loadRun{cancel: cancel, done: make(chan struct{})}
	// Several clients at once, so a loaded machine (CI under -race) still
	// sends requests all through the scale-down.
	var wg sync.WaitGroup
	for w := range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += loadWorkers {
				time.Sleep(20 * time.Millisecond)
				ep, err := lp.Client.Endpoints("default").Get(ctx, name)
				if err != nil {
					continue // the API, not the service
				}
				var addrs []string
				for _, ss := range ep.Subsets {
					for _, a := range ss.Addresses {
						for _, p := range ss.Ports {
							addrs = append(addrs, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
						}
					}
				}
				err = get(hc, addrs, i)
				l.mu.Lock()
				l.total++
				if err != nil && ctx.Err() == nil {
					l.failed = append(l.failed, err)
				}
				l.mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(l.done) }()
	t.Cleanup(cancel)
	return l
}

// loadRun is a running serviceLoad.
type loadRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	total  int
	failed []error
}

// peek is how many requests were sent so far, and how many failed.
func (l *loadRun) peek() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, len(l.failed)
}

// stop ends the load and reports the requests sent and the failures.
func (l *loadRun) stop() (int, []error) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.failed
}

// get sends one request to addrs[first%len], or the next that accepts
// the connection.
func get(hc *http.Client, addrs []string, first int) error {
	if len(addrs) == 0 {
		return errors.New("no ready endpoint")
	}
	var refused []error
	for k := range addrs {
		addr := addrs[(first+k)%len(addrs)]
		resp, err := hc.Get("http://" + addr + "/")
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			refused = append(refused, err)
			continue // refused: the next endpoint, as the proxy does
		}
		if err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %s", addr, resp.Status)
		}
		return nil
	}
	return fmt.Errorf("every endpoint of %v refused: %w", addrs, errors.Join(refused...))
}

// podTimes records, per pod, when it was first seen unschedulable and
// first seen Running.
type podTimes struct {
	lp               *localPools
	stop             func()
	mu               sync.Mutex
	pending, running map[string]time.Time
}

func watchPods(t *testing.T, lp *localPools, selector string) *podTimes {
	pt := &podTimes{lp: lp, pending: map[string]time.Time{}, running: map[string]time.Time{}}
	var once sync.Once
	stop := cluster.Every(50*time.Millisecond, func() {
		pods, _, err := lp.Client.Pods("default").List(lp.Ctx, client.ListOptions{LabelSelector: selector})
		if err != nil {
			return
		}
		now := time.Now()
		pt.mu.Lock()
		defer pt.mu.Unlock()
		for _, p := range pods {
			if _, ok := pt.pending[p.Name]; !ok && podcapacity.Pending(p) {
				pt.pending[p.Name] = now
			}
			if _, ok := pt.running[p.Name]; !ok && p.Status.Phase == api.PodRunning {
				pt.running[p.Name] = now
			}
		}
	})
	pt.stop = func() { once.Do(stop) }
	t.Cleanup(pt.stop)
	return pt
}

// report logs unschedulable -> Running for each pod that was unschedulable.
func (pt *podTimes) report(t *testing.T) {
	pt.stop()
	pt.mu.Lock()
	defer pt.mu.Unlock()
	var worst time.Duration
	for name, from := range pt.pending {
		to, ok := pt.running[name]
		if !ok { // the poller missed it: the container's own start
			p, err := pt.lp.Client.Pods("default").Get(pt.lp.Ctx, name)
			if err != nil || len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Running == nil {
				t.Logf("pod %s: unschedulable at %s, not seen Running (%v)", name, from.Format(time.StampMilli), err)
				continue
			}
			to = p.Status.ContainerStatuses[0].State.Running.StartedAt
		}
		d := to.Sub(from)
		worst = max(worst, d)
		t.Logf("pod %s: unschedulable -> Running in %s", name, d.Round(time.Millisecond))
	}
	t.Logf("unschedulable -> Running: %d pod(s), slowest %s (target <= 5 s for a local pool)", len(pt.pending), worst.Round(time.Millisecond))
}

func eventsOf(t *testing.T, c *cluster.Cluster, kind, name string) []string {
	t.Helper()
	evs, _, err := c.Client.Events("").List(c.Ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.InvolvedObject.Kind == kind && ev.InvolvedObject.Name == name {
			out = append(out, ev.Reason+": "+ev.Message)
		}
	}
	return out
}
