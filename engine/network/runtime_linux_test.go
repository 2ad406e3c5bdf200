//go:build linux

package network

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// fakeRuntime keeps sandboxes in memory; each one's namespace is one the
// test made (netns), or none for host-network pods.
type fakeRuntime struct {
	runtime.Runtime // unused methods panic
	netns           string
	mu              sync.Mutex
	sbs             []runtime.Sandbox
	runs            int
}

func (f *fakeRuntime) RunSandbox(_ context.Context, cfg runtime.SandboxConfig) (runtime.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs++
	sb := runtime.Sandbox{ID: cfg.PodUID + "-sb", PodUID: cfg.PodUID, Node: cfg.Node, State: runtime.SandboxReady, NetNS: f.netns}
	if cfg.HostNetwork {
		sb.NetNS, sb.IP = "", "192.0.2.10"
	}
	f.sbs = append(f.sbs, sb)
	return sb, nil
}

func (f *fakeRuntime) StopSandbox(context.Context, string, time.Duration) error { return nil }

func (f *fakeRuntime) RemoveSandbox(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sbs = slices.DeleteFunc(f.sbs, func(sb runtime.Sandbox) bool { return sb.ID == id })
	return nil
}

func (f *fakeRuntime) ListSandboxes(context.Context, runtime.Filter) ([]runtime.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sbs), nil
}

// TestRuntimeWrapper: sandboxes wait for the node's network without being
// made, get the IPAM address (also when listed), are removed again when
// attaching fails, host-network sandboxes pass through, and Reconcile
// frees the addresses of sandboxes the runtime no longer has.
func TestRuntimeWrapper(t *testing.T) {
	run := netnsPrereqs(t)
	host, pod := newNS(t, run, "host"), newNS(t, run, "pod")
	inner := &fakeRuntime{netns: pod.path}
	r := WrapRuntime(inner, nil)
	ctx := t.Context()
	if _, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "a"}); !errors.Is(err, ErrNoPodCIDR) || inner.runs != 0 {
		t.Fatalf("RunSandbox without a node: %v after %d runtime calls; want ErrNoPodCIDR and none", err, inner.runs)
	}
	if sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "h", HostNetwork: true}); err != nil || sb.IP != "192.0.2.10" {
		t.Fatalf("host-network sandbox without a node: %+v, %v; want it as the runtime made it", sb, err)
	}
	host.in(t, func() {
		n, err := Setup(ctx, Config{NodeName: "n1", ClusterID: run, PodCIDR: netip.MustParsePrefix("10.244.9.0/24"), StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		r.SetNode(n)
		a, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "a"})
		if err != nil || a.IP != "10.244.9.2" {
			t.Fatalf("RunSandbox = %+v, %v; want the first pod address 10.244.9.2", a, err)
		}
		list, _ := r.ListSandboxes(ctx, runtime.Filter{})
		if i := slices.IndexFunc(list, func(sb runtime.Sandbox) bool { return sb.ID == a.ID }); i < 0 || list[i].IP != a.IP {
			t.Errorf("ListSandboxes = %+v; want %s with %s", list, a.ID, a.IP)
		}
		inner.netns = "/nonexistent/netns"
		if _, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "b"}); err == nil {
			t.Error("RunSandbox with a namespace that cannot be opened succeeded")
		}
		if list, _ := inner.ListSandboxes(ctx, runtime.Filter{}); slices.ContainsFunc(list, func(sb runtime.Sandbox) bool { return sb.PodUID == "b" }) {
			t.Error("the sandbox whose attach failed was left in the runtime")
		}
		if _, ok := n.IP("b-sb"); ok {
			t.Error("the sandbox whose attach failed kept an address")
		}
		_ = inner.RemoveSandbox(ctx, a.ID) // gone behind the agent's back
		if err := r.Reconcile(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if ip, ok := n.IP(a.ID); ok {
			t.Errorf("after Reconcile the removed sandbox still holds %s", ip)
		}
		if err := n.Remove(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A running sandbox with a namespace of its own but no address (the agent
// stopped between making and attaching it) is listed NotReady once the
// node has its network, so the agent replaces it; host-network sandboxes
// (labelled, or from before the label: the node's address) and attached
// ones stay Ready, and without the node's network nothing is judged.
func TestListSandboxesUnattachedNotReady(t *testing.T) {
	n, err := newNode(Config{NodeName: "n1", PodCIDR: netip.MustParsePrefix("10.244.9.0/24"), StateDir: t.TempDir(),
		Firewall: FirewallIPTables})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.ipam.Allocate("attached"); err != nil {
		t.Fatal(err)
	}
	ready, stopped := runtime.SandboxReady, runtime.SandboxNotReady
	inner := &fakeRuntime{sbs: []runtime.Sandbox{
		{ID: "attached", State: ready, NetNS: "/proc/1/ns/net"},
		{ID: "unattached", State: ready, NetNS: "/proc/2/ns/net"},
		{ID: "unattached-listed", State: ready}, // docker lists no namespace
		{ID: "host", State: ready, Labels: map[string]string{runtime.LabelHostNetwork: "true"}},
		{ID: "host-old", State: ready, IP: "192.0.2.10"},
		{ID: "stopped", State: stopped},
	}}
	want := map[string]runtime.SandboxState{"attached": ready, "unattached": stopped, "unattached-listed": stopped,
		"host": ready, "host-old": ready, "stopped": stopped}
	r := WrapRuntime(inner, nil)
	list, err := r.ListSandboxes(t.Context(), runtime.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sb := range list {
		if sb.State != runtime.SandboxReady && sb.ID != "stopped" {
			t.Errorf("without the node's network: %s is %v, want it as the runtime says", sb.ID, sb.State)
		}
	}
	r.SetNode(n)
	if list, err = r.ListSandboxes(t.Context(), runtime.Filter{}); err != nil {
		t.Fatal(err)
	}
	for _, sb := range list {
		if sb.State != want[sb.ID] {
			t.Errorf("%s is %v, want %v", sb.ID, sb.State, want[sb.ID])
		}
		if sb.ID == "attached" && sb.IP != "10.244.9.2" {
			t.Errorf("attached sandbox IP %q, want 10.244.9.2", sb.IP)
		}
	}
}

// Attach never deletes an eth0 that is not an earlier attach's veth: not
// in the host's own namespace (a sandbox pid reused by a host process), not
// in a namespace whose eth0 is something else; and a runtime that owns
// namespaces but reports none for a sandbox gets it removed, not a pod
// without network.
func TestAttachRefusesForeignNamespaces(t *testing.T) {
	run := netnsPrereqs(t)
	host, other := newNS(t, run, "host"), newNS(t, run, "other")
	// The host's eth0 is even a veth: only the namespace tells it apart.
	host.exec(t, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p")
	other.exec(t, "ip", "link", "add", "eth0", "type", "bridge")
	ctx := t.Context()
	host.in(t, func() {
		n, err := Setup(ctx, Config{NodeName: "n1", ClusterID: run, PodCIDR: netip.MustParsePrefix("10.244.11.0/24"), StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n.Remove(ctx) }()
		for _, tc := range []struct{ owner, path string }{{"on-host", host.path}, {"on-other", other.path}} {
			if ip, err := n.Attach(ctx, tc.owner, tc.path); err == nil {
				t.Errorf("Attach into %s succeeded with %s", tc.path, ip)
			}
			if _, ok := n.IP(tc.owner); ok {
				t.Errorf("the refused %s kept an address", tc.owner)
			}
		}
		inner := &fakeRuntime{} // owns namespaces, reports none
		r := WrapRuntime(inner, n)
		if _, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "x"}); err == nil {
			t.Error("RunSandbox without a namespace succeeded")
		}
		if len(inner.sbs) != 0 {
			t.Errorf("sandboxes left: %+v", inner.sbs)
		}
	})
	for _, ns := range []testNS{host, other} {
		if out, err := exec.Command("ip", "netns", "exec", ns.name, "ip", "link", "show", "eth0").CombinedOutput(); err != nil {
			t.Errorf("eth0 of %s is gone: %v: %s", ns.name, err, out)
		}
	}
}
