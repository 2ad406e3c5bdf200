// Package dns is the cluster DNS server: one per host, answering the
// containers on that host from the cluster state the host has cached.
//
// Names under the cluster domain (default cluster.local) are answered
// authoritatively, the way Kubernetes' CoreDNS kubernetes plugin answers them:
//
//	<service>.<namespace>.svc.<domain>                   A/AAAA: the cluster IP, or for a
//	                                                     headless service each ready endpoint
//	_<port>._<tcp|udp>.<service>.<namespace>.svc.<domain> SRV: the named service port, with the
//	                                                     target's addresses as additional records
//	<service>.<namespace>.svc.<domain>                   SRV: every named port
//	<endpoint>.<service>.<namespace>.svc.<domain>        A/AAAA of one ready endpoint of a headless
//	                                                     service (its hostname, or its dashed IP)
//	<a-b-c-d>.<namespace>.pod.<domain>                   A: a.b.c.d, only when a pod in the
//	                                                     namespace has that IP
//
// A name that exists but has no record of the asked type (AAAA for an IPv4
// service, A for an SRV name) gets NOERROR with an empty answer (NODATA), not
// NXDOMAIN: stub resolvers ask A and AAAA together and treat NXDOMAIN on
// either as "no such host". Names that do not exist, including the
// search-path expansions of external names (example.com.default.svc.<domain>),
// get NXDOMAIN; both carry the zone's SOA so resolvers cache the negative
// answer for the configured TTL only. <namespace>.svc.<domain> is NODATA for
// any well-formed namespace, since Source cannot tell which namespaces exist
// and a false NXDOMAIN would deny every name below it to caches that cut at
// NXDOMAIN (RFC 8020).
//
// Names outside the cluster domain are forwarded, over the transport the
// query came on, to the configured upstream resolvers in order; without
// upstreams they are REFUSED.
//
// Data flow: informers elsewhere keep services, endpoints and pods; the
// caller adapts them to Source; every query is one or two Source lookups and
// nothing is cached here, so an answer is never staler than the informers.
package dns
