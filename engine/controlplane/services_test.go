package controlplane_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestServersShareServiceAllocations: two servers on one etcd hand out
// each cluster IP and node port once, and agree on the cluster info.
func TestServersShareServiceAllocations(t *testing.T) {
	t.Parallel()
	url := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "shared.key")
	cfg := func() controlplane.Config {
		return controlplane.Config{DataDir: t.TempDir(), EtcdEndpoints: []string{url}, EncryptionKeyFile: keyFile,
			ServiceCIDR: netip.MustParsePrefix("10.200.0.0/28"), NodePortRange: allocator.PortRange{Min: 30100, Max: 30199}}
	}
	a := start(t, cfg())
	defer a.Close()
	b := start(t, cfg())
	defer b.Close()
	ctx := context.Background()
	clients := [2]interface {
		ClusterInfo(context.Context) (*api.ClusterInfo, error)
	}{clientFor(t, a), clientFor(t, b)}
	for i, c := range clients {
		info, err := c.ClusterInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// One cluster: both servers serve the id of the store they share.
		want := api.ClusterInfo{ServiceCIDR: "10.200.0.0/28", ClusterDNS: "10.200.0.10", ClusterDomain: "cluster.local", NodePortRange: "30100-30199",
			PodCIDR: "10.244.0.0/16", NodeCIDRMaskSize: 24, PodNetworkMode: "auto", ClusterID: a.ClusterInfo().ClusterID}
		if want.ClusterID == "" {
			t.Fatal("server 0 has no cluster id")
		}
		if *info != want {
			t.Errorf("server %d cluster info %+v, want %+v", i, *info, want)
		}
	}
	if got := a.ClusterDNS().String(); got != "10.200.0.10" {
		t.Errorf("ClusterDNS() = %s", got)
	}

	var (
		mu      sync.Mutex
		seen    = map[string]string{}
		created int
		wg      sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			c := clientFor(t, []*controlplane.ControlPlane{a, b}[w%2])
			for i := range 3 {
				name := fmt.Sprintf("svc-%d-%d", w, i)
				svc, err := c.Services("default").Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: name},
					Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, Ports: []api.ServicePort{{Port: 80}}}})
				mu.Lock()
				switch {
				case err == nil:
					created++
					for _, v := range []string{svc.Spec.ClusterIP, fmt.Sprint(svc.Spec.Ports[0].NodePort)} {
						if prev, dup := seen[v]; dup {
							t.Errorf("%s handed to %s and %s", v, prev, name)
						}
						seen[v] = name
					}
				case !api.IsInvalid(err) || !strings.Contains(err.Error(), "is full"):
					t.Errorf("create %s: %v", name, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if created != 12 {
		t.Errorf("%d services created from a /28, want its 12 allocatable addresses used", created)
	}
}

// TestBadServiceRangesAreClearErrors: bad service and pod network settings
// fail the start with an error naming the flag.
func TestBadServiceRangesAreClearErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  controlplane.Config
		want string
	}{
		{controlplane.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.1/16")}, "did you mean 10.96.0.0/16"},
		{controlplane.Config{NodePortRange: allocator.PortRange{Min: 40000, Max: 30000}}, "--service-node-port-range"},
		{controlplane.Config{PodCIDR: netip.MustParsePrefix("10.244.1.0/16")}, "did you mean 10.244.0.0/16? (--pod-cidr)"},
		{controlplane.Config{PodCIDR: netip.MustParsePrefix("fd00:10:244::/56"), NodeCIDRMaskSize: 64},
			"fd00:10:244::/56 is not IPv4: the pod network is IPv4 only (e.g. 10.244.0.0/16) (--pod-cidr)"},
		{controlplane.Config{NodeCIDRMaskSize: 16}, "/16 is not longer than the pod CIDR 10.244.0.0/16's prefix /16, so each node would get the whole range or more; use a mask between /17 and /30 (--node-cidr-mask-size)"},
		{controlplane.Config{NodeCIDRMaskSize: 31}, "fewer than 2 host bits per node (a gateway and one pod); use /30 or shorter (--node-cidr-mask-size)"},
		{controlplane.Config{PodCIDR: netip.MustParsePrefix("10.0.0.0/8")},
			"pod CIDR 10.0.0.0/8 overlaps the service CIDR 10.96.0.0/16: pod and service addresses must be distinct (--pod-cidr, --service-cidr)"},
		{controlplane.Config{PodNetworkMode: "vxlan"}, `pod network mode "vxlan": want auto, host-gw or wireguard (--pod-network)`},
	} {
		tc.cfg.DataDir = t.TempDir()
		_, err := controlplane.Start(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%v, %v) = %v, want an error saying %q", tc.cfg.ServiceCIDR, tc.cfg.NodePortRange, err, tc.want)
		}
	}
}
