package apiserver_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestClusterInfo: every authenticated role reads the service and pod
// networks; anonymous callers do not.
func TestClusterInfo(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) {
		c.ServiceCIDR = netip.MustParsePrefix("10.100.0.0/24")
		c.PodCIDR, c.NodeCIDRMaskSize, c.PodNetworkMode = netip.MustParsePrefix("10.32.0.0/12"), 26, api.PodNetworkWireGuard
	}))
	ctx := ctxT(t)
	// Nodes read the cluster id too: their agents label containers with it.
	want := api.ClusterInfo{ServiceCIDR: "10.100.0.0/24", ClusterDNS: "10.100.0.10", ClusterDomain: "cluster.local", NodePortRange: "30000-32767",
		PodCIDR: "10.32.0.0/12", NodeCIDRMaskSize: 26, PodNetworkMode: "wireguard", ClusterID: env.CP.ClusterInfo().ClusterID}
	if want.ClusterID == "" {
		t.Fatal("the control plane has no cluster id")
	}
	for _, role := range []string{"admin", "viewer", "node"} {
		c := env.Client
		if role != "admin" {
			c = env.ClientAs(t, role, "node-1")
		}
		info, err := c.ClusterInfo(ctx)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if *info != want {
			t.Errorf("%s reads %+v, want %+v", role, *info, want)
		}
	}

	raw := newRaw(t, env)
	resp := raw.do(t, "GET", "/v1/cluster-info", env.Config.Token, "", nil)
	var fields map[string]any
	if err := json.Unmarshal(resp.Body, &fields); err != nil || fields["clusterDNS"] != "10.100.0.10" || fields["serviceCIDR"] != "10.100.0.0/24" ||
		fields["clusterDomain"] != "cluster.local" || fields["nodePortRange"] != "30000-32767" ||
		fields["podCIDR"] != "10.32.0.0/12" || fields["nodeCIDRMaskSize"] != 26.0 || fields["podNetworkMode"] != "wireguard" {
		t.Errorf("wire form %s (%v)", resp.Body, err)
	}
	if resp := raw.do(t, "GET", "/v1/cluster-info", "", "", nil); resp.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d %s, want 401", resp.Code, resp.Body)
	}
}

// TestServiceAllocationOverHTTP: services get a cluster IP from the
// configured range and node ports; a taken address is a 422 naming the
// field; deleting frees it.
func TestServiceAllocationOverHTTP(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) {
		c.ServiceCIDR = netip.MustParsePrefix("10.100.0.0/24")
	}))
	ctx := ctxT(t)
	svcs := env.Client.Services("default")
	web, err := svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, Ports: []api.ServicePort{{Port: 80}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ip, err := netip.ParseAddr(web.Spec.ClusterIP); err != nil || !netip.MustParsePrefix("10.100.0.0/24").Contains(ip) {
		t.Errorf("cluster IP %q outside 10.100.0.0/24", web.Spec.ClusterIP)
	}
	if np := web.Spec.Ports[0].NodePort; np < 30000 || np > 32767 {
		t.Errorf("node port %d", np)
	}
	_, err = svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "copy"},
		Spec: api.ServiceSpec{ClusterIP: web.Spec.ClusterIP, Ports: []api.ServicePort{{Port: 80}}}})
	if api.CodeOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("taken address: %v, want 422", err)
	}
	if se := err.(*api.StatusError); len(se.Status.Details.Causes) != 1 || se.Status.Details.Causes[0].Field != "spec.clusterIP" {
		t.Errorf("causes %+v, want spec.clusterIP", se.Status.Details.Causes)
	}
	if err := svcs.Delete(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "copy"},
		Spec: api.ServiceSpec{ClusterIP: web.Spec.ClusterIP, Ports: []api.ServicePort{{Port: 80}}}}); err != nil {
		t.Errorf("address freed by the delete: %v", err)
	}
}
