package dns

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/api"
)

// wants reports whether a query of qtype is answered with records of rrtype.
func wants(qtype, rrtype uint16) bool {
	return qtype == rrtype || qtype == dns.TypeANY
}

// protoLabel is the SRV label of a port protocol without its "_": "tcp",
// "udp"; an unset protocol is TCP, as defaulting makes it.
func protoLabel(p api.Protocol) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(string(p))
}

func headless(svc *api.Service) bool { return svc.Spec.ClusterIP == "None" }

// serviceIPs returns the addresses a service name resolves to: its cluster
// IP, or the distinct ready endpoint addresses of a headless service. A
// service whose cluster IP is not allocated yet has none.
func (s *Server) serviceIPs(svc *api.Service) []netip.Addr {
	if !headless(svc) {
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil {
			return nil
		}
		return []netip.Addr{ip.Unmap()}
	}
	var ips []netip.Addr
	for _, a := range s.readyAddresses(svc) {
		if !slices.Contains(ips, a.ip) {
			ips = append(ips, a.ip)
		}
	}
	return ips
}

// readyAddress is one ready endpoint of a headless service.
type readyAddress struct {
	ip     netip.Addr
	addr   *api.EndpointAddress
	subset *api.EndpointSubset
}

// label is the endpoint's first DNS label: its hostname, or its IP with
// '-' for '.' and ':' when it has none.
func (a readyAddress) label() string {
	if a.addr.Hostname != "" {
		return strings.ToLower(a.addr.Hostname)
	}
	return dashed(a.ip)
}

// readyAddresses lists the ready addresses of the service's endpoints;
// not-ready ones are left out so clients only reach pods that pass their
// readiness probes. Addresses that do not parse are skipped.
func (s *Server) readyAddresses(svc *api.Service) []readyAddress {
	ep, ok := s.cfg.Source.Endpoints(svc.Namespace, svc.Name)
	if !ok {
		return nil
	}
	var out []readyAddress
	for i := range ep.Subsets {
		sub := &ep.Subsets[i]
		for j := range sub.Addresses {
			ip, err := netip.ParseAddr(sub.Addresses[j].IP)
			if err != nil {
				continue
			}
			out = append(out, readyAddress{ip: ip.Unmap(), addr: &sub.Addresses[j], subset: sub})
		}
	}
	return out
}

// addrRecords returns the A records (IPv4) and AAAA records (IPv6) of ips
// that a query of qtype asks for.
func addrRecords(owner string, ips []netip.Addr, qtype uint16, ttl uint32) []dns.RR {
	var rrs []dns.RR
	for _, ip := range ips {
		switch {
		case ip.Is4() && wants(qtype, dns.TypeA):
			rrs = append(rrs, &dns.A{
				Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl},
				A:   ip.AsSlice(),
			})
		case ip.Is6() && wants(qtype, dns.TypeAAAA):
			rrs = append(rrs, &dns.AAAA{
				Hdr:  dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl},
				AAAA: ip.AsSlice(),
			})
		}
	}
	return rrs
}

// dashed writes ip as one DNS label: 10-0-0-1, fd00--1.
func dashed(ip netip.Addr) string {
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.String(), ":", "-")
}

// parseDashed reads a label written by dashed (or any other spelling of the
// same address, such as an unabbreviated IPv6 one).
func parseDashed(label string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
		return ip, true
	}
	ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":"))
	if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip, true
}
