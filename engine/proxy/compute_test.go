package proxy

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestCompute(t *testing.T) {
	svc := func(name, typ, ip string, affinity string, ports ...api.ServicePort) *api.Service {
		return &api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
			Spec: api.ServiceSpec{Type: typ, ClusterIP: ip, Ports: ports, SessionAffinity: affinity}}
	}
	eps := func(name string, ports []api.EndpointPort, ready []string, notReady ...string) *api.Endpoints {
		e := &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name}}
		s := api.EndpointSubset{Ports: ports}
		for _, ip := range ready {
			s.Addresses = append(s.Addresses, api.EndpointAddress{IP: ip})
		}
		for _, ip := range notReady {
			s.NotReadyAddresses = append(s.NotReadyAddresses, api.EndpointAddress{IP: ip})
		}
		e.Subsets = []api.EndpointSubset{s}
		return e
	}
	ap := netip.MustParseAddrPort
	nodes := []netip.Addr{netip.MustParseAddr("127.0.1.1"), netip.MustParseAddr("127.0.1.2")}
	web := ServicePort{Namespace: "default", Name: "web"}
	tests := []struct {
		name      string
		services  []*api.Service
		endpoints []*api.Endpoints
		want      map[Frontend]Route
	}{{
		name:      "cluster IP with ready endpoints only",
		services:  []*api.Service{svc("web", api.ServiceTypeClusterIP, "10.96.0.5", "None", api.ServicePort{Port: 80, Protocol: api.ProtocolTCP})},
		endpoints: []*api.Endpoints{eps("web", []api.EndpointPort{{Port: 8080, Protocol: api.ProtocolTCP}}, []string{"172.17.0.3", "172.17.0.2"}, "172.17.0.9")},
		want: map[Frontend]Route{
			{Addr: ap("10.96.0.5:80"), Protocol: api.ProtocolTCP}: {Service: web, Backends: []netip.AddrPort{ap("172.17.0.2:8080"), ap("172.17.0.3:8080")}},
		},
	}, {
		name:     "no endpoints object yet: frontend with no backends",
		services: []*api.Service{svc("web", api.ServiceTypeClusterIP, "10.96.0.5", "ClientIP", api.ServicePort{Port: 80})},
		want:     map[Frontend]Route{{Addr: ap("10.96.0.5:80"), Protocol: api.ProtocolTCP}: {Service: web, Affinity: true}},
	}, {
		name:     "headless and unallocated services are not proxied",
		services: []*api.Service{svc("a", api.ServiceTypeClusterIP, "None", ""), svc("b", api.ServiceTypeClusterIP, "", "", api.ServicePort{Port: 80})},
		want:     map[Frontend]Route{},
	}, {
		name: "node port on every node address; named ports matched by name and protocol",
		services: []*api.Service{svc("web", api.ServiceTypeNodePort, "10.96.0.5", "",
			api.ServicePort{Name: "http", Port: 80, Protocol: api.ProtocolTCP, NodePort: 30080},
			api.ServicePort{Name: "dns", Port: 53, Protocol: api.ProtocolUDP})},
		endpoints: []*api.Endpoints{eps("web", []api.EndpointPort{{Name: "http", Port: 8080, Protocol: api.ProtocolTCP}, {Name: "dns", Port: 5353, Protocol: api.ProtocolUDP}}, []string{"172.17.0.2"})},
		want: map[Frontend]Route{
			{Addr: ap("10.96.0.5:80"), Protocol: api.ProtocolTCP}:    {Service: ServicePort{"default", "web", "http"}, Backends: []netip.AddrPort{ap("172.17.0.2:8080")}},
			{Addr: ap("127.0.1.1:30080"), Protocol: api.ProtocolTCP}: {Service: ServicePort{"default", "web", "http"}, Backends: []netip.AddrPort{ap("172.17.0.2:8080")}},
			{Addr: ap("127.0.1.2:30080"), Protocol: api.ProtocolTCP}: {Service: ServicePort{"default", "web", "http"}, Backends: []netip.AddrPort{ap("172.17.0.2:8080")}},
			{Addr: ap("10.96.0.5:53"), Protocol: api.ProtocolUDP}:    {Service: ServicePort{"default", "web", "dns"}, Backends: []netip.AddrPort{ap("172.17.0.2:5353")}},
		},
	}, {
		name:     "load balancer: node port plus the service port on node addresses",
		services: []*api.Service{svc("web", api.ServiceTypeLoadBalancer, "10.96.0.5", "", api.ServicePort{Port: 80, NodePort: 30001})},
		want: map[Frontend]Route{
			{Addr: ap("10.96.0.5:80"), Protocol: api.ProtocolTCP}:    {Service: web},
			{Addr: ap("127.0.1.1:30001"), Protocol: api.ProtocolTCP}: {Service: web},
			{Addr: ap("127.0.1.2:30001"), Protocol: api.ProtocolTCP}: {Service: web},
			{Addr: ap("127.0.1.1:80"), Protocol: api.ProtocolTCP}:    {Service: web},
			{Addr: ap("127.0.1.2:80"), Protocol: api.ProtocolTCP}:    {Service: web},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]*api.Endpoints{}
			for _, e := range tt.endpoints {
				m[e.Namespace+"/"+e.Name] = e
			}
			if got := Compute(tt.services, m, nodes); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Compute:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
