package nodeipam_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/nodeipam"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// server is a control plane whose leader runs only the pod CIDR allocator.
type server struct {
	cp     *controlplane.ControlPlane
	client *client.Client
}

// startServer starts a control plane on dir (reusing what it holds) with
// the given pod range and /24 node CIDRs; edit changes the config.
func startServer(t *testing.T, dir, podCIDR string, edit ...func(*controlplane.Config)) *server {
	t.Helper()
	log := testenv.Logger(t)
	cfg := controlplane.Config{
		DataDir: dir, Listen: "127.0.0.1:0", ClientConfigPath: "-", UnsafeNoFsync: true, Log: log,
		ShutdownTimeout: 2 * time.Second, PodCIDR: netip.MustParsePrefix(podCIDR), NodeCIDRMaskSize: 24,
		Leader: func(ctx context.Context, cl *client.Client) {
			d := controller.Deps{Client: cl, Log: log}.WithDefaults()
			controller.RunAll(ctx, d, []controller.Runnable{nodeipam.New(d)})
		},
	}
	for _, e := range edit {
		e(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cp, err := controlplane.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting control plane: %v", err)
	}
	c, err := client.New(cp.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cp: cp, client: c}
	t.Cleanup(func() { _ = cp.Close() })
	return s
}

func (s *server) register(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.client.Nodes().Create(context.Background(), &api.Node{ObjectMeta: api.ObjectMeta{Name: n}}); err != nil {
			t.Fatalf("registering %s: %v", n, err)
		}
	}
}

func (s *server) remove(t *testing.T, name string) {
	t.Helper()
	if err := s.client.Nodes().Delete(context.Background(), name, client.DeleteOptions{}); err != nil {
		t.Fatalf("deleting %s: %v", name, err)
	}
}

// waitNode polls node name until cond holds (10 s).
func (s *server) waitNode(t *testing.T, name, what string, cond func(*api.Node) bool) *api.Node {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.client.Nodes().Get(context.Background(), name)
		if err == nil && cond(n) {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: timed out waiting for %s; last: %+v %+v (err %v)", name, what, n.Spec, n.Status.Conditions, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cidrOf waits for node name's pod CIDR.
func (s *server) cidrOf(t *testing.T, name string) string {
	t.Helper()
	return s.waitNode(t, name, "a pod CIDR", func(n *api.Node) bool { return n.Spec.PodCIDR != "" }).Spec.PodCIDR
}

// assertDistinct fails the test when two nodes hold one CIDR (node -> CIDR).
func assertDistinct(t *testing.T, cidrs map[string]string) {
	t.Helper()
	holder := map[string]string{}
	for n, cidr := range cidrs {
		if other, dup := holder[cidr]; dup {
			t.Fatalf("nodes %s and %s both hold %s (%v)", other, n, cidr, cidrs)
		}
		holder[cidr] = n
	}
}

// TestPodCIDRsAssignedReleasedReused: every registered node gets its own
// /24 of the range; a deleted node's CIDR is given again, but only after
// the others (so peers' routes to it have time to go).
func TestPodCIDRsAssignedReleasedReused(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "10.244.0.0/22") // 4 node CIDRs
	s.register(t, "a", "b", "c")
	got := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		cidr := s.cidrOf(t, n)
		p, err := netip.ParsePrefix(cidr)
		if err != nil || p.Bits() != 24 || !netip.MustParsePrefix("10.244.0.0/22").Contains(p.Addr()) {
			t.Fatalf("node %s got %q, want a /24 of 10.244.0.0/22", n, cidr)
		}
		if other, dup := got[cidr]; dup {
			t.Fatalf("nodes %s and %s both got %s", other, n, cidr)
		}
		got[cidr] = n
	}
	freed := s.cidrOf(t, "a")
	s.remove(t, "a")
	s.register(t, "d")
	d := s.cidrOf(t, "d")
	if d == freed || got[d] != "" {
		t.Fatalf("node d got %s; want the one CIDR never given (a's %s rests while another is free)", d, freed)
	}
	s.register(t, "e")
	if e := s.cidrOf(t, "e"); e != freed {
		t.Fatalf("node e got %s, want a's released %s", e, freed)
	}
}

// TestPodCIDRsDistinctUnderConcurrentRegistration: nodes registering at
// once (several reconcile workers) never share a CIDR.
func TestPodCIDRsDistinctUnderConcurrentRegistration(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "10.244.0.0/19") // 32 node CIDRs
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() { s.register(t, fmt.Sprintf("n%02d", i)) })
	}
	wg.Wait()
	got := map[string]string{}
	for i := range 32 {
		name := fmt.Sprintf("n%02d", i)
		got[name] = s.cidrOf(t, name)
	}
	assertDistinct(t, got)
}

// TestPodCIDRExhaustion: with a range of two node CIDRs, the third node
// gets NetworkUnavailable=True (PodCIDRExhausted, naming the range and its
// size); when a node goes, it gets the freed CIDR and the condition clears.
func TestPodCIDRExhaustion(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "10.244.0.0/23")
	s.register(t, "a", "b")
	s.cidrOf(t, "a")
	freed := s.cidrOf(t, "b")
	s.register(t, "c")
	n := s.waitNode(t, "c", "the exhausted condition", func(n *api.Node) bool {
		c := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
		return c != nil && c.Status == api.ConditionTrue
	})
	cond := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
	if n.Spec.PodCIDR != "" || cond.Reason != nodeipam.ReasonPodCIDRExhausted ||
		!strings.Contains(cond.Message, "10.244.0.0/23") || !strings.Contains(cond.Message, "all 2 node CIDRs (/24)") {
		t.Fatalf("exhausted node: podCIDR %q, condition %+v; want none, PodCIDRExhausted naming 10.244.0.0/23 and its 2 /24s", n.Spec.PodCIDR, cond)
	}

	s.remove(t, "b")
	n = s.waitNode(t, "c", "the freed CIDR and the condition cleared", func(n *api.Node) bool {
		c := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
		return n.Spec.PodCIDR != "" && c != nil && c.Status == api.ConditionFalse
	})
	if n.Spec.PodCIDR != freed {
		t.Fatalf("node c got %s, want b's freed %s", n.Spec.PodCIDR, freed)
	}
	if c := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable); c.Reason != nodeipam.ReasonPodCIDRAssigned {
		t.Fatalf("cleared condition %+v, want reason %s", c, nodeipam.ReasonPodCIDRAssigned)
	}
}

// TestPodCIDRsSurviveRestart: a restarted control plane (a new leader
// with an empty memory) keeps every assignment and gives a new node a
// CIDR no other holds, however the old one's rotation stood.
func TestPodCIDRsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, dir, "10.244.0.0/22")
	s.register(t, "a", "b", "c")
	before := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		before[n] = s.cidrOf(t, n)
	}
	s.remove(t, "a") // frees the first CIDR: a new leader starting at 0 must not hand b's or c's out
	s.cidrOf(t, "b")
	if err := s.cp.Close(); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, dir, "10.244.0.0/22")
	s.register(t, "d", "e")
	after := map[string]string{"b": s.cidrOf(t, "b"), "c": s.cidrOf(t, "c"), "d": s.cidrOf(t, "d"), "e": s.cidrOf(t, "e")}
	if after["b"] != before["b"] || after["c"] != before["c"] {
		t.Fatalf("restart changed assignments: before %v, after %v", before, after)
	}
	assertDistinct(t, after)
}

// TestPodCIDRsAcrossLeaderChange: two servers share an etcd; when the
// leader goes, the other one's allocator takes over from the stored
// Nodes, keeps every assignment and gives no CIDR twice, also to nodes
// registering during the change.
func TestPodCIDRsAcrossLeaderChange(t *testing.T) {
	t.Parallel()
	etcd := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "key")
	var leader atomic.Value // name of the server whose allocator runs
	servers := map[string]*server{}
	for _, name := range []string{"a", "b"} {
		servers[name] = startServer(t, t.TempDir(), "10.244.0.0/21", func(c *controlplane.Config) {
			c.EtcdEndpoints, c.EncryptionKeyFile, c.LeaseTTL = []string{etcd}, keyFile, 2*time.Second
			run := c.Leader
			c.Leader = func(ctx context.Context, cl *client.Client) {
				leader.Store(name)
				run(ctx, cl)
			}
		})
	}
	first := servers["a"]
	first.register(t, "n0", "n1", "n2")
	before := map[string]string{"n1": first.cidrOf(t, "n1"), "n2": first.cidrOf(t, "n2")}
	first.cidrOf(t, "n0")
	first.remove(t, "n0")

	old, _ := leader.Load().(string)
	if old == "" {
		t.Fatal("no leader ran the allocator")
	}
	survivor := servers[map[string]string{"a": "b", "b": "a"}[old]]
	if err := servers[old].cp.Close(); err != nil {
		t.Fatal(err)
	}
	survivor.register(t, "m0", "m1", "m2", "m3") // while the survivor takes over
	got := map[string]string{}
	for _, n := range []string{"n1", "n2", "m0", "m1", "m2", "m3"} {
		got[n] = survivor.cidrOf(t, n)
	}
	if now, _ := leader.Load().(string); now == old {
		t.Fatalf("leadership stayed with the closed server %s", old)
	}
	if got["n1"] != before["n1"] || got["n2"] != before["n2"] {
		t.Fatalf("assignments changed across the leader change: before %v, after %v", before, got)
	}
	assertDistinct(t, got)
}
