package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// register creates the node's Node object, or takes over an existing one
// (an agent restart), and reports it ready.
func (a *Agent) register(ctx context.Context) error {
	nodes := a.cfg.Client.Nodes()
	want, err := a.nodeObject(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		_, err := nodes.Create(ctx, want)
		if err == nil {
			a.log.Info("node registered")
			return nil
		}
		if !api.IsAlreadyExists(err) {
			if attempt < 30 && ctx.Err() == nil && !api.IsForbidden(err) && !api.IsInvalid(err) {
				time.Sleep(time.Second)
				continue
			}
			return fmt.Errorf("registering node %s: %w", a.cfg.NodeName, err)
		}
		cur, err := nodes.Get(ctx, a.cfg.NodeName)
		if err != nil {
			return fmt.Errorf("registering node %s: %w", a.cfg.NodeName, err)
		}
		for k, v := range want.Labels {
			if cur.Labels == nil {
				cur.Labels = map[string]string{}
			}
			cur.Labels[k] = v
		}
		if cur, err = nodes.Update(ctx, cur); err != nil {
			if api.IsConflict(err) {
				continue
			}
			return fmt.Errorf("updating node %s: %w", a.cfg.NodeName, err)
		}
		a.syncPodNetwork(ctx, cur)
		a.addNetworkCondition(cur, want)
		cur.Status = mergeNodeStatus(cur.Status, want.Status)
		if _, err := nodes.UpdateStatus(ctx, cur); err != nil {
			if api.IsConflict(err) {
				continue
			}
			return fmt.Errorf("updating node %s: %w", a.cfg.NodeName, err)
		}
		a.log.Info("node re-registered")
		return nil
	}
}

// heartbeats renew the node's Ready condition until ctx ends.
func (a *Agent) heartbeats(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("heartbeat failed", "err", err)
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) error {
	nodes := a.cfg.Client.Nodes()
	cur, err := nodes.Get(ctx, a.cfg.NodeName)
	if api.IsNotFound(err) {
		return a.register(ctx) // deleted by someone: come back
	}
	if err != nil {
		return err
	}
	want, err := a.nodeObject(ctx)
	if err != nil {
		return err
	}
	a.syncPodNetwork(ctx, cur)
	a.addNetworkCondition(cur, want)
	cur.Status = mergeNodeStatus(cur.Status, want.Status)
	_, err = nodes.UpdateStatus(ctx, cur)
	return err
}

// addNetworkCondition adds the pod network's condition to want, if the
// agent has one to say over cur's.
func (a *Agent) addNetworkCondition(cur, want *api.Node) {
	if c := a.networkCondition(cur.Status.Conditions); c != nil {
		want.Status.Conditions = append(want.Status.Conditions, *c)
	}
}

// mergeNodeStatus takes the agent's view but keeps the condition history.
func mergeNodeStatus(cur, want api.NodeStatus) api.NodeStatus {
	conds := cur.Conditions
	now := time.Now().UTC()
	for _, c := range want.Conditions {
		api.SetCondition(&conds, c, now)
	}
	want.Conditions = conds
	return want
}

// nodeObject is the Node as this agent sees it.
func (a *Agent) nodeObject(ctx context.Context) (*api.Node, error) {
	capacity, err := hostCapacity()
	if err != nil {
		return nil, err
	}
	for k, v := range a.cfg.Capacity {
		capacity[k] = v
	}
	labels := map[string]string{api.LabelHostname: a.cfg.NodeName}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	version, err := a.rt.Version(ctx)
	if err != nil {
		version = "unknown"
	}
	now := time.Now().UTC()
	host, _ := os.Hostname()
	network, _ := a.meshStatus()
	return &api.Node{
		ObjectMeta: api.ObjectMeta{Name: a.cfg.NodeName, Labels: labels},
		Spec:       api.NodeSpec{Taints: a.cfg.Taints},
		Status: api.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, Reason: "AgentReady",
				Message: "agent is posting ready status", LastHeartbeatTime: now}},
			Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: a.cfg.Address}, {Type: api.NodeHostName, Address: host}},
			NodeInfo: api.NodeSystemInfo{AgentVersion: a.cfg.Version, Runtime: a.rt.Name() + "://" + version,
				OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH, KernelVersion: kernelVersion()},
			DaemonEndpoint: a.endpoint(),
			Network:        network,
		},
	}, nil
}

// hostCapacity reads the machine's cpus and memory.
func hostCapacity() (api.ResourceList, error) {
	mem, err := memTotal()
	if err != nil {
		return nil, fmt.Errorf("reading host memory: %w", err)
	}
	return api.ResourceList{
		api.ResourceCPU:    resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		api.ResourceMemory: resource.NewQuantity(mem, resource.BinarySI),
		api.ResourcePods:   resource.NewQuantity(110, resource.DecimalSI),
	}, nil
}

func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

func kernelVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
