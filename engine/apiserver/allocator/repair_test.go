package allocator

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// TestRepair: leaked claims (a create that failed after admission, node
// ports an update dropped) are freed once older than the grace period;
// young ones and those in use stay; values without a claim get one.
func TestRepair(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	sv := newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(30000, 30009))
	// Every value is explicit here: a random node port could take 30009,
	// which the legacy service below needs.
	web := sv.mustCreate(t, svc("web", clusterIP("10.0.0.2"), nodePorts(30001)))

	// A create that fails after admission (the name exists) leaks its claims.
	if _, err := sv.create(t, svc("web", clusterIP("10.0.0.3"), nodePorts(30002))); !api.IsAlreadyExists(err) {
		t.Fatalf("second web: %v", err)
	}
	// An update to ClusterIP drops web's node port.
	up := deepCopy(t, web)
	up.Spec.Type, up.Spec.Ports[0].NodePort = api.ServiceTypeClusterIP, 0
	if _, err := sv.reg.Update(t.Context(), up, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A service stored without claims (before the allocator existed).
	sv.mustCreate(t, svc("legacy", clusterIP("10.0.0.12"), nodePorts(30009)))
	for _, key := range []string{ServiceIPsPrefix + "10.0.0.12", NodePortsPrefix + "30009"} {
		if _, err := st.Delete(t.Context(), key, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(claims(t, st, ServiceIPsPrefix)); n != 2 {
		t.Fatalf("%d IP claims before repair, want web's and the leaked one", n)
	}

	// Young leaks stay; the legacy service gets its claims.
	if err := sv.alloc.Repair(t.Context()); err != nil {
		t.Fatal(err)
	}
	ips, ports := claims(t, st, ServiceIPsPrefix), claims(t, st, NodePortsPrefix)
	if len(ips) != 3 || len(ports) != 3 {
		t.Errorf("after a repair within the grace period: %v %v; want every claim kept and legacy's added", ips, ports)
	}
	if ips["10.0.0.12"] != "default/legacy" || ports["30009"] != "default/legacy" {
		t.Errorf("legacy's values not claimed for it: %v %v", ips, ports)
	}

	// Past the grace period the leaks go; a claim made just now stays.
	sv.clock.Advance(DefaultRepairGrace + time.Second)
	young := sv.mustCreate(t, svc("young", clusterIP("10.0.0.4"), nodePorts(0)))
	if _, err := st.Create(t.Context(), ServiceIPsPrefix+"10.0.0.13", sv.alloc.claimValue(owner{"default", "in-flight", "uid-1"})); err != nil {
		t.Fatal(err)
	}
	if err := sv.alloc.Repair(t.Context()); err != nil {
		t.Fatal(err)
	}
	ips, ports = claims(t, st, ServiceIPsPrefix), claims(t, st, NodePortsPrefix)
	wantIPs := []string{web.Spec.ClusterIP, "10.0.0.12", young.Spec.ClusterIP, "10.0.0.13"}
	slices.Sort(wantIPs)
	if got := slices.Sorted(maps.Keys(ips)); !slices.Equal(got, wantIPs) {
		t.Errorf("IP claims after repair %v, want %v", got, wantIPs)
	}
	wantPorts := []string{portString(young.Spec.Ports[0].NodePort), "30009"}
	slices.Sort(wantPorts)
	if got := slices.Sorted(maps.Keys(ports)); !slices.Equal(got, wantPorts) {
		t.Errorf("node port claims after repair %v, want %v", got, wantPorts)
	}

	// Repair changes nothing more when run again.
	if err := sv.alloc.Repair(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again := claims(t, st, ServiceIPsPrefix); len(again) != len(ips) {
		t.Errorf("second repair changed the claims: %v", again)
	}
}

// TestRunRepairsUntilCancelled: the loop repairs on start and on every tick
// and returns when its context ends.
func TestRunRepairsUntilCancelled(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	a, err := New(st, Config{ServiceCIDR: netip.MustParsePrefix("10.0.0.0/28"), RepairInterval: 20 * time.Millisecond,
		RepairGrace: time.Nanosecond, Log: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	// Leaked after the first pass: only a later tick frees it.
	time.Sleep(30 * time.Millisecond)
	if _, err := st.Create(t.Context(), NodePortsPrefix+"30001", a.claimValue(owner{"default", "gone", "uid-2"})); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(claims(t, st, NodePortsPrefix)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the leaked claim was never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
