package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/workqueue"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// Test cluster for the replica set and deployment controllers: an
// in-process control plane, simulated nodes that report bound pods
// running and ready, a tiny binder standing in for the scheduler, and both
// controllers sharing one set of informers.

const rsTestNamespace = api.NamespaceDefault

type rsCluster struct {
	client *client.Client
	ctx    context.Context
}

// rsStartCluster starts a cluster with n simulated nodes; everything stops
// when the test ends.
func rsStartCluster(t *testing.T, n int) *rsCluster {
	t.Helper()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	log := testenv.Logger(t)
	fleet := simnode.NewFleet(simnode.Config{Client: env.Client, HeartbeatInterval: time.Second, Log: log})
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("sim-%d", i)
		if _, err := fleet.Add(ctx, simnode.NodeSpec{Name: nodes[i]}); err != nil {
			t.Fatalf("adding simulated node: %v", err)
		}
	}
	wg.Go(func() { fleet.Run(ctx) })
	binder := rsNewTestBinder(env.Client, nodes)
	wg.Go(func() { binder.run(ctx) })

	d := Deps{Client: env.Client, Log: log}.withDefaults()
	controllers := []Runnable{NewReplicaSetController(d), NewDeploymentController(d)}
	wg.Go(func() { RunAll(ctx, d, controllers) })
	return &rsCluster{client: env.Client, ctx: ctx}
}

// rsTestBinder binds every unbound pod to the simulated nodes in turn
// (the real scheduler is another package's business).
type rsTestBinder struct {
	client *client.Client
	nodes  []string
	pods   *client.Informer[*api.Pod]
	queue  *workqueue.Queue[string]
	next   atomic.Uint64
}

func rsNewTestBinder(c *client.Client, nodes []string) *rsTestBinder {
	b := &rsTestBinder{client: c, nodes: nodes, pods: client.NewInformer(c.Pods(""), client.ListOptions{}),
		queue: workqueue.New[string](workqueue.WithName("test-binder"))}
	enqueue := func(p *api.Pod) {
		if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
			b.queue.Add(p.Key())
		}
	}
	b.pods.AddHandler(client.Handler[*api.Pod]{OnAdd: enqueue, OnUpdate: func(_, p *api.Pod) { enqueue(p) }})
	return b
}

func (b *rsTestBinder) run(ctx context.Context) {
	go b.pods.Run(ctx)
	workqueue.Run(ctx, b.queue, 2, b.bind, nil)
}

func (b *rsTestBinder) bind(ctx context.Context, key string) error {
	p, ok := b.pods.Get(key)
	if !ok || p.Spec.NodeName != "" || p.DeletionTimestamp != nil {
		return nil
	}
	cp := *p
	cp.Spec.NodeName = b.nodes[int(b.next.Add(1))%len(b.nodes)]
	_, err := b.client.Pods(p.Namespace).Update(ctx, &cp)
	if api.IsNotFound(err) {
		return nil
	}
	return err
}

// rsEventually polls cond until it holds or timeout passes; cond explains
// what it is waiting for, which the failure reports.
func rsEventually(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rsTestTemplate is a pod template with one container.
func rsTestTemplate(labels map[string]string, image string) api.PodTemplateSpec {
	return api.PodTemplateSpec{
		ObjectMeta: api.ObjectMeta{Labels: labels},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "app", Image: image}}},
	}
}

// rsActivePods lists the pods matching selector that are not finished or
// being deleted.
func (c *rsCluster) activePods(t *testing.T, selector string) []*api.Pod {
	t.Helper()
	pods, _, err := c.client.Pods(rsTestNamespace).List(c.ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	var out []*api.Pod
	for _, p := range pods {
		if podIsActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// updateDeployment reads, changes and writes a deployment, retrying conflicts.
func (c *rsCluster) updateDeployment(t *testing.T, name string, mutate func(*api.Deployment)) *api.Deployment {
	t.Helper()
	for range 20 {
		d, err := c.client.Deployments(rsTestNamespace).Get(c.ctx, name)
		if err != nil {
			t.Fatalf("reading deployment: %v", err)
		}
		mutate(d)
		out, err := c.client.Deployments(rsTestNamespace).Update(c.ctx, d)
		if err == nil {
			return out
		}
		if !api.IsConflict(err) {
			t.Fatalf("updating deployment: %v", err)
		}
	}
	t.Fatalf("updating deployment %s: too many conflicts", name)
	return nil
}

// updatePod is updateDeployment for pods (the simulated nodes write pod
// status all the time, so conflicts are common).
func (c *rsCluster) updatePod(t *testing.T, name string, mutate func(*api.Pod)) *api.Pod {
	t.Helper()
	for range 20 {
		p, err := c.client.Pods(rsTestNamespace).Get(c.ctx, name)
		if err != nil {
			t.Fatalf("reading pod: %v", err)
		}
		mutate(p)
		out, err := c.client.Pods(rsTestNamespace).Update(c.ctx, p)
		if err == nil {
			return out
		}
		if !api.IsConflict(err) {
			t.Fatalf("updating pod: %v", err)
		}
	}
	t.Fatalf("updating pod %s: too many conflicts", name)
	return nil
}

// updateReplicaSet is updateDeployment for replica sets.
func (c *rsCluster) updateReplicaSet(t *testing.T, name string, mutate func(*api.ReplicaSet)) *api.ReplicaSet {
	t.Helper()
	for range 20 {
		rs, err := c.client.ReplicaSets(rsTestNamespace).Get(c.ctx, name)
		if err != nil {
			t.Fatalf("reading replica set: %v", err)
		}
		mutate(rs)
		out, err := c.client.ReplicaSets(rsTestNamespace).Update(c.ctx, rs)
		if err == nil {
			return out
		}
		if !api.IsConflict(err) {
			t.Fatalf("updating replica set: %v", err)
		}
	}
	t.Fatalf("updating replica set %s: too many conflicts", name)
	return nil
}

// rsPodWatcher follows the pods matching a selector from a list and a
// watch, calling check with the current set after every event.
type rsPodWatcher struct {
	mu     sync.Mutex
	pods   map[string]*api.Pod
	events int
	fail   string
	stop   func()
	done   chan struct{}
}

// watchPods starts following pods; check returns a non-empty complaint
// when an invariant is broken (the first one is kept).
func (c *rsCluster) watchPods(t *testing.T, selector string, check func(pods map[string]*api.Pod) string) *rsPodWatcher {
	t.Helper()
	res := c.client.Pods(rsTestNamespace)
	list, rev, err := res.List(c.ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	w, err := res.Watch(ctx, client.ListOptions{LabelSelector: selector, ResourceVersion: rev})
	if err != nil {
		cancel()
		t.Fatalf("watching pods: %v", err)
	}
	pw := &rsPodWatcher{pods: map[string]*api.Pod{}, done: make(chan struct{})}
	pw.stop = func() {
		cancel()
		<-pw.done
	}
	t.Cleanup(pw.stop)
	for _, p := range list {
		pw.pods[p.Name] = p
	}
	go func() {
		defer close(pw.done)
		for ev := range w.Events() {
			pw.mu.Lock()
			if ev.Type == api.WatchDeleted {
				delete(pw.pods, ev.Object.Name)
			} else {
				pw.pods[ev.Object.Name] = ev.Object
			}
			pw.events++
			if msg := check(pw.pods); msg != "" && pw.fail == "" {
				pw.fail = fmt.Sprintf("after event %d (%s %s): %s", pw.events, ev.Type, ev.Object.Name, msg)
			}
			pw.mu.Unlock()
		}
	}()
	return pw
}

// snapshot runs f on the watcher's current view.
func (w *rsPodWatcher) snapshot(f func(pods map[string]*api.Pod)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.pods)
}

// result stops the watcher and returns its first complaint and event count.
func (w *rsPodWatcher) result() (string, int) {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fail, w.events
}
