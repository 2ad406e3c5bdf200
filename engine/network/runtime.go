package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// ErrNoPodCIDR is returned for a pod sandbox while the node has no pod
// network yet (its Node has no spec.podCIDR).
var ErrNoPodCIDR = errors.New("network: the node has no pod CIDR yet")

// Runtime is a runtime.Runtime whose pod sandboxes are attached to a
// node's pod network: the inner runtime makes the sandbox's network
// namespace (Sandbox.NetNS), Runtime plugs it into the Node and reports
// the IPAM address as Sandbox.IP. Sandboxes without a namespace of their
// own (host network) pass through untouched. The node may be set later
// (SetNode), once the node's pod CIDR is known; until then sandboxes with
// a namespace of their own fail with ErrNoPodCIDR (and are removed).
type Runtime struct {
	runtime.Runtime
	node atomic.Pointer[Node]

	// mu orders Reconcile after sandbox creations in flight: a sandbox
	// attached while Reconcile lists would otherwise lose its address.
	mu sync.RWMutex
}

// WrapRuntime attaches rt's sandboxes to node (nil: set later).
func WrapRuntime(rt runtime.Runtime, node *Node) *Runtime {
	r := &Runtime{Runtime: rt}
	if node != nil {
		r.node.Store(node)
	}
	return r
}

// SetNode sets the node's network (once its pod CIDR is known).
func (r *Runtime) SetNode(n *Node) { r.node.Store(n) }

// Node is the node's network, or nil while there is none.
func (r *Runtime) Node() *Node { return r.node.Load() }

// RunSandbox starts the sandbox and attaches its namespace; on failure the
// sandbox is removed again, so no pod runs without its network.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	n := r.node.Load()
	if n == nil && !cfg.HostNetwork && OwnNamespaces(r.Runtime) {
		return runtime.Sandbox{}, ErrNoPodCIDR // rather than make a sandbox to remove
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	sb, err := r.Runtime.RunSandbox(ctx, cfg)
	if err != nil || cfg.HostNetwork || !OwnNamespaces(r.Runtime) {
		return sb, err
	}
	switch {
	case sb.NetNS == "":
		err = errors.New("the runtime reported no network namespace for it")
	case n == nil:
		err = ErrNoPodCIDR
	default:
		var ip netip.Addr
		if ip, err = n.Attach(ctx, sb.ID, sb.NetNS); err == nil {
			sb.IP = ip.String()
			err = publish(ctx, n, sb.ID, ip, cfg.Ports)
		}
	}
	if err != nil {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = r.Runtime.StopSandbox(rmCtx, sb.ID, 0)
		_ = r.Runtime.RemoveSandbox(rmCtx, sb.ID)
		return runtime.Sandbox{}, fmt.Errorf("attaching the sandbox of pod %s/%s to the pod network: %w", cfg.Namespace, cfg.Name, err)
	}
	return sb, nil
}

// publish sets up the sandbox's host ports (mappings without one are only
// documentation: the pod's address is reachable as it is).
func publish(ctx context.Context, n *Node, owner string, ip netip.Addr, ports []runtime.PortMapping) error {
	var hps []HostPort
	for _, p := range ports {
		if p.HostPort == 0 {
			continue
		}
		hostIP, err := netip.ParseAddr(p.HostIP)
		if err != nil {
			return fmt.Errorf("host port %d: hostIP %q: %w", p.HostPort, p.HostIP, err)
		}
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		hps = append(hps, HostPort{HostIP: hostIP, Port: uint16(p.HostPort), PodPort: uint16(p.ContainerPort),
			Protocol: proto, PodIP: ip})
	}
	return n.SetHostPorts(ctx, owner, hps)
}

// RemoveSandbox removes the sandbox, then frees its address and veth.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	err := r.Runtime.RemoveSandbox(ctx, id)
	if err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return err
	}
	if n := r.node.Load(); n != nil {
		if derr := n.Detach(ctx, id); derr != nil {
			return errors.Join(err, derr)
		}
	}
	return err
}

// ListSandboxes reports sandboxes with their IPAM addresses. Once the node
// has its network, a running sandbox with a namespace of its own but no
// address was never attached (the agent stopped between making and
// attaching it) or lost its address (a new pod CIDR): it is reported
// NotReady, so the agent replaces it rather than run a pod without network.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.Filter) ([]runtime.Sandbox, error) {
	sbs, err := r.Runtime.ListSandboxes(ctx, f)
	if err != nil {
		return nil, err
	}
	n := r.node.Load()
	if n == nil {
		return sbs, nil // addresses unknown yet; keep what runs
	}
	own := OwnNamespaces(r.Runtime)
	for i := range sbs {
		if ip, ok := n.IP(sbs[i].ID); ok {
			sbs[i].IP = ip.String()
		} else if own && sbs[i].State == runtime.SandboxReady && !onHostNetwork(sbs[i]) {
			sbs[i].State = runtime.SandboxNotReady
		}
	}
	return sbs, nil
}

// onHostNetwork reports whether sb shares the host's network: its label
// says so, or (a sandbox from before the label) the runtime gave it the
// node's address, which it leaves empty for a namespace of the sandbox's own.
func onHostNetwork(sb runtime.Sandbox) bool {
	return sb.Labels[runtime.LabelHostNetwork] == "true" || (sb.IP != "" && sb.NetNS == "")
}

// Reconcile frees the addresses of sandboxes of node that the runtime no
// longer has (removed while the agent was down, say).
func (r *Runtime) Reconcile(ctx context.Context, node string) error {
	n := r.node.Load()
	if n == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sbs, err := r.Runtime.ListSandboxes(ctx, runtime.Filter{Node: node})
	if err != nil {
		return fmt.Errorf("network: reconciling addresses: %w", err)
	}
	live := make(map[string]bool, len(sbs))
	for _, sb := range sbs {
		live[sb.ID] = true
	}
	return n.Retain(ctx, live)
}
