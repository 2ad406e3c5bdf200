package dns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/api"
)

// result is the answer to a name under the cluster domain: NXDOMAIN, or
// NOERROR with records (an empty answer is NODATA).
type result struct {
	rcode  int
	answer []dns.RR
	extra  []dns.RR
}

var (
	nxdomain = result{rcode: dns.RcodeNameError}
	nodata   = result{rcode: dns.RcodeSuccess}
)

// lookup answers qtype for name, a lower-case FQDN under the zone; owner
// is the name as asked, used as the owner of the answers so a resolver
// that randomises case (DNS 0x20) sees its own spelling back.
func (s *Server) lookup(owner, name string, qtype uint16) result {
	rest := strings.TrimSuffix(strings.TrimSuffix(name, s.zone), ".")
	if rest == "" {
		if wants(qtype, dns.TypeSOA) {
			return result{answer: []dns.RR{s.soa}}
		}
		return nodata
	}
	if strings.Contains(rest, `\`) {
		return nxdomain // escaped bytes never occur in object names
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	switch labels[n-1] {
	case "svc":
		return s.lookupService(owner, labels[:n-1], qtype)
	case "pod":
		return s.lookupPod(owner, labels[:n-1], qtype)
	}
	return nxdomain
}

// lookupService answers names under svc.<zone>; labels are the ones before
// "svc", from the left.
func (s *Server) lookupService(owner string, labels []string, qtype uint16) result {
	switch len(labels) {
	case 0: // svc.<zone>
		return nodata
	case 1: // <namespace>.svc.<zone>: an empty non-terminal (see doc.go)
		if api.IsDNS1123Label(labels[0]) == "" {
			return nodata
		}
		return nxdomain
	}
	ns, name := labels[len(labels)-1], labels[len(labels)-2]
	// Search-path expansions of external names end up here with a service
	// that does not exist: that single map lookup makes them NXDOMAIN.
	svc, ok := s.cfg.Source.Service(ns, name)
	if !ok {
		return nxdomain
	}
	switch len(labels) {
	case 2: // <service>.<namespace>.svc.<zone>
		res := result{answer: addrRecords(owner, s.serviceIPs(svc), qtype, s.cfg.TTL)}
		if wants(qtype, dns.TypeSRV) {
			for _, p := range svc.Spec.Ports {
				if p.Name != "" {
					s.appendSRV(&res, owner, svc, p)
				}
			}
		}
		return res
	case 3:
		if proto, ok := strings.CutPrefix(labels[0], "_"); ok {
			// _<proto>.<service>...: exists when a named port has proto.
			for _, p := range svc.Spec.Ports {
				if p.Name != "" && protoLabel(p.Protocol) == proto {
					return nodata
				}
			}
			return nxdomain
		}
		return s.lookupEndpoint(owner, svc, labels[0], qtype)
	case 4: // _<port>._<proto>.<service>.<namespace>.svc.<zone>
		port, ok1 := strings.CutPrefix(labels[0], "_")
		proto, ok2 := strings.CutPrefix(labels[1], "_")
		if !ok1 || !ok2 {
			return nxdomain
		}
		for _, p := range svc.Spec.Ports {
			if p.Name != "" && p.Name == port && protoLabel(p.Protocol) == proto {
				var res result
				if wants(qtype, dns.TypeSRV) {
					s.appendSRV(&res, owner, svc, p)
				}
				return res
			}
		}
	}
	return nxdomain
}

// lookupEndpoint answers <endpoint>.<service>.<namespace>.svc.<zone>: the
// ready addresses of a headless service whose hostname (or dashed IP, when
// it has none) is label.
func (s *Server) lookupEndpoint(owner string, svc *api.Service, label string, qtype uint16) result {
	if !headless(svc) {
		return nxdomain
	}
	var ips []netip.Addr
	for _, a := range s.readyAddresses(svc) {
		if a.label() == label {
			ips = append(ips, a.ip)
		}
	}
	if len(ips) == 0 {
		return nxdomain
	}
	return result{answer: addrRecords(owner, ips, qtype, s.cfg.TTL)}
}

// appendSRV adds the SRV records of the named service port p. A service
// with a cluster IP has one, targeting the service name; a headless one has
// one per ready endpoint, targeting the endpoint's name with the endpoint's
// port (clients connect to it directly, without a proxy translating).
func (s *Server) appendSRV(res *result, owner string, svc *api.Service, p api.ServicePort) {
	svcName := svc.Name + "." + svc.Namespace + ".svc." + s.zone
	if !headless(svc) {
		res.answer = append(res.answer, s.srv(owner, svcName, p.Port, 100))
		res.extra = append(res.extra, addrRecords(svcName, s.serviceIPs(svc), dns.TypeANY, s.cfg.TTL)...)
		return
	}
	type target struct {
		name string
		ip   netip.Addr
		port int32
	}
	var targets []target
	for _, a := range s.readyAddresses(svc) {
		for _, ep := range a.subset.Ports {
			if ep.Name == p.Name && protoLabel(ep.Protocol) == protoLabel(p.Protocol) {
				targets = append(targets, target{name: a.label() + "." + svcName, ip: a.ip, port: ep.Port})
				break
			}
		}
	}
	// The endpoints share a weight of 100: equal chances for each.
	weight := uint16(max(1, 100/max(1, len(targets))))
	for _, t := range targets {
		res.answer = append(res.answer, s.srv(owner, t.name, t.port, weight))
		res.extra = append(res.extra, addrRecords(t.name, []netip.Addr{t.ip}, dns.TypeANY, s.cfg.TTL)...)
	}
}

func (s *Server) srv(owner, target string, port int32, weight uint16) dns.RR {
	return &dns.SRV{
		Hdr:      dns.RR_Header{Name: owner, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: s.cfg.TTL},
		Priority: 0,
		Weight:   weight,
		Port:     uint16(port),
		Target:   target,
	}
}

// lookupPod answers <dashed-ip>.<namespace>.pod.<zone> when a pod in the
// namespace has that IP; labels are the ones before "pod".
func (s *Server) lookupPod(owner string, labels []string, qtype uint16) result {
	switch len(labels) {
	case 0: // pod.<zone>
		return nodata
	case 1: // <namespace>.pod.<zone>
		if api.IsDNS1123Label(labels[0]) == "" {
			return nodata
		}
		return nxdomain
	case 2:
		ip, ok := parseDashed(labels[0])
		if !ok || !s.cfg.Source.PodIP(labels[1], ip.String()) {
			return nxdomain
		}
		return result{answer: addrRecords(owner, []netip.Addr{ip}, qtype, s.cfg.TTL)}
	}
	return nxdomain
}
