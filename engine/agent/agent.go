package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/agent/prober"
	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
	"github.com/maestro-dev/maestro/engine/client/workqueue"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/network/mesh"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// podWorkers is how many pods are synced at once.
const podWorkers = 16

// Agent runs the pods of one node.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	rt       runtime.Runtime
	net      podNet
	pods     *client.Informer[*api.Pod]
	queue    *workqueue.Queue[string]
	prober   *prober.Manager
	volumes  *volumes.Manager
	config   *configCache
	recorder *record.Recorder
	restarts *backoff // container restarts (CrashLoopBackOff)
	pulls    *backoff // image pulls (ImagePullBackOff)
	stats    *statsCache
	started  time.Time
	// listenAddr is where logs and stats are served.
	listenAddr string
	// cluster is the cluster's id (set by Run before anything touches the
	// runtime): every sandbox made carries it, every list asks for it.
	cluster string
	// reclaimer removes the data of this node's deleted Volumes.
	reclaimer *volumes.Reclaimer
	// nodes feeds mesh, which routes to other nodes' pods (nil: disabled).
	nodes *client.Informer[*api.Node]
	mesh  *mesh.Reconciler

	mu sync.Mutex
	// waiting holds why a container is not running ("pod-uid/name").
	waiting map[string]api.ContainerStateWaiting
	// known maps pod UIDs this agent has seen to their keys, for pods
	// deleted from the API while their containers still run.
	known map[string]string
	// lastState is the runtime state last seen per container id, to notice exits.
	lastState map[string]runtime.ContainerState
	// exits is the last exited container counted toward each container's
	// restart backoff ("pod-uid/name" -> container id).
	exits map[string]string
	// netStatus and netCondition are what the mesh last published.
	netStatus    *api.NodeNetworkStatus
	netCondition *api.Condition
}

// New builds an agent; Run starts it.
func New(cfg Config) (*Agent, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if network.OwnNamespaces(cfg.Runtime) {
		if err := network.CheckPrivileges(); err != nil {
			return nil, fmt.Errorf("the %s runtime gives pods network namespaces of their own, which the agent plugs into the pod network: %w; "+
				"run the agent as root, or use the process runtime (its pods then share the host's network)", cfg.Runtime.Name(), err)
		}
	}
	log := cfg.Log.With("node", cfg.NodeName)
	a := &Agent{
		cfg: cfg, log: log,
		queue:     workqueue.New[string](workqueue.WithName("agent-pods")),
		recorder:  record.New(cfg.Client, "agent", log),
		restarts:  newBackoff(cfg.RestartBackoffBase, cfg.RestartBackoffMax),
		pulls:     newBackoff(cfg.RestartBackoffBase, cfg.RestartBackoffMax),
		stats:     newStatsCache(),
		waiting:   map[string]api.ContainerStateWaiting{},
		known:     map[string]string{},
		lastState: map[string]runtime.ContainerState{},
		exits:     map[string]string{},
		started:   time.Now(),
	}
	// Sandboxes go through the pod network, which attaches them once the
	// node has a pod CIDR (podnetwork.go).
	a.net.rt = network.WrapRuntime(cfg.Runtime, nil)
	a.rt = a.net.rt
	a.config = newConfigCache(cfg.Client)
	a.volumes = volumes.NewManager(filepath.Join(cfg.DataDir, "pods"), a.config, a.config, log)
	remover, _ := cfg.Runtime.(runtime.VolumeRemover) // nil: no volumes (process runtime)
	a.reclaimer = volumes.NewReclaimer(cfg.Client, cfg.NodeName, remover, log)
	a.prober = prober.NewManager(cfg.Runtime, a.onProbe, log)
	a.pods = client.NewInformer(cfg.Client.Pods(""), client.ListOptions{FieldSelector: "spec.nodeName=" + cfg.NodeName},
		client.WithLogger(log))
	enqueue := func(p *api.Pod) { a.queue.Add(p.Key()) }
	a.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    enqueue,
		OnUpdate: func(_, p *api.Pod) { enqueue(p) },
		OnDelete: enqueue,
	})
	if err := a.newMesh(); err != nil {
		return nil, err
	}
	return a, nil
}

// Run registers the node and runs its pods until ctx ends. Containers keep
// running when the agent stops; a new agent adopts them.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.resolveCluster(ctx); err != nil {
		return err
	}
	srv, err := a.serve(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := a.register(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	if c := a.cfg.Credentials; c != nil {
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Go(func() { a.recorder.Run(ctx) })
	wg.Go(func() { a.heartbeats(ctx) })
	wg.Go(func() { a.waitForPodNetwork(ctx) })
	wg.Go(func() { a.pods.Run(ctx) })
	wg.Go(func() { a.reclaimer.Run(ctx) })
	wg.Go(func() { a.runMesh(ctx) })
	wg.Go(func() { a.stats.run(ctx, a.rt, a.filter(""), a.cfg.MetricsInterval, a.reportUsage) })
	defer wg.Wait()
	defer a.prober.Stop()
	if !a.pods.WaitForSync(ctx) {
		return nil
	}
	a.log.Info("agent running", "runtime", a.rt.Name(), "pods", len(a.pods.List()))
	wg.Go(func() { a.housekeeping(ctx) })
	wg.Go(func() { a.watchRuntime(ctx) })
	workqueue.Run(ctx, a.queue, podWorkers, a.syncPod, func(key string, err error) {
		switch {
		case ctx.Err() != nil || api.IsConflict(err):
		case errors.Is(err, network.ErrNoPodCIDR): // said once, in podnetwork.go
			a.log.Debug("pod waits for the pod network", "pod", key)
		default:
			a.log.Warn("pod sync failed; retrying", "pod", key, "err", err)
		}
	})
	return nil
}

// onProbe reacts to a probe result change by syncing the pod.
func (a *Agent) onProbe(u prober.Update) {
	a.mu.Lock()
	key, ok := a.known[u.PodUID]
	a.mu.Unlock()
	if ok {
		a.queue.Add(key)
	}
}

// watchRuntime notices containers that stop on their own (a crash, `docker
// kill`) within a second, so restarts do not wait for the next resync.
func (a *Agent) watchRuntime(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cs, err := a.rt.ListContainers(ctx, a.filter(""))
		if err != nil {
			continue
		}
		seen := make(map[string]bool, len(cs))
		a.mu.Lock()
		for _, c := range cs {
			seen[c.ID] = true
			if prev, ok := a.lastState[c.ID]; ok && prev != c.State {
				if key := podKey(c.Labels); key != "" {
					a.queue.Add(key)
				}
			}
			a.lastState[c.ID] = c.State
		}
		for id := range a.lastState {
			if !seen[id] {
				delete(a.lastState, id)
			}
		}
		a.mu.Unlock()
	}
}

func podKey(labels map[string]string) string {
	ns, name := labels[runtime.LabelPodNamespace], labels[runtime.LabelPodName]
	if ns == "" || name == "" {
		return ""
	}
	return api.Key(ns, name)
}

// StopAllPods stops and removes every container and sandbox of this node
// (`maestro down`), within the pods' grace periods, then the node's pod
// network (bridge and rules).
func (a *Agent) StopAllPods(ctx context.Context) error {
	if a.cluster == "" {
		return fmt.Errorf("node %s: the agent never learned its cluster's id (it did not run); no containers touched", a.cfg.NodeName)
	}
	sbs, err := a.rt.ListSandboxes(ctx, a.filter(""))
	if err != nil {
		return fmt.Errorf("listing sandboxes: %w", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sbs))
	for _, sb := range sbs {
		wg.Go(func() { errs <- a.killPod(ctx, sb.PodUID, 10*time.Second) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	// No pods left: the node's bridge and rules go too.
	if n := a.net.rt.Node(); n != nil {
		if err := n.Remove(ctx); err != nil {
			return fmt.Errorf("removing the pod network: %w", err)
		}
	}
	return nil
}
