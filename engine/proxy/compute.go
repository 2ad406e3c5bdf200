package proxy

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// Compute says which frontends this host serves and where each one's
// traffic goes: every service port on the service's cluster IP; for
// NodePort and LoadBalancer services the node port on every local node
// address; for LoadBalancer services also the service port on every local
// node address (the nodes' addresses are the load balancer's status
// addresses until a cloud provides one). endpoints is keyed
// "namespace/name". It is a pure function of its inputs.
func Compute(services []*api.Service, endpoints map[string]*api.Endpoints, nodeAddrs []netip.Addr) map[Frontend]Route {
	out := map[Frontend]Route{}
	for _, svc := range services {
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil { // "", "None" (headless: DNS only)
			continue
		}
		ep := endpoints[svc.Namespace+"/"+svc.Name]
		for _, sp := range svc.Spec.Ports {
			proto := cmp.Or(sp.Protocol, api.ProtocolTCP)
			route := Route{
				Service:  ServicePort{Namespace: svc.Namespace, Name: svc.Name, Port: sp.Name},
				Backends: backends(ep, sp.Name, proto),
				Affinity: svc.Spec.SessionAffinity == api.SessionAffinityClientIP,
			}
			out[Frontend{Addr: netip.AddrPortFrom(ip, uint16(sp.Port)), Protocol: proto}] = route
			if svc.Spec.Type == api.ServiceTypeClusterIP {
				continue
			}
			for _, node := range nodeAddrs {
				if sp.NodePort != 0 {
					out[Frontend{Addr: netip.AddrPortFrom(node, uint16(sp.NodePort)), Protocol: proto}] = route
				}
				if svc.Spec.Type == api.ServiceTypeLoadBalancer {
					lb := Frontend{Addr: netip.AddrPortFrom(node, uint16(sp.Port)), Protocol: proto}
					if _, taken := out[lb]; !taken {
						out[lb] = route
					}
				}
			}
		}
	}
	return out
}

// ClusterIPs are the addresses of the services' proxied cluster IPs.
func ClusterIPs(services []*api.Service) []netip.Addr {
	var out []netip.Addr
	for _, svc := range services {
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// backends are the ready addresses of the endpoint port named like the
// service port (the endpoints controller names them after it).
func backends(ep *api.Endpoints, portName string, proto api.Protocol) []netip.AddrPort {
	if ep == nil {
		return nil
	}
	var out []netip.AddrPort
	for _, subset := range ep.Subsets {
		port := int32(0)
		for _, p := range subset.Ports {
			if p.Name == portName && cmp.Or(p.Protocol, api.ProtocolTCP) == proto {
				port = p.Port
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, a := range subset.Addresses {
			if ip, err := netip.ParseAddr(a.IP); err == nil {
				out = append(out, netip.AddrPortFrom(ip, uint16(port)))
			}
		}
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return slices.Compact(out)
}
