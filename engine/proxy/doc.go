// Package proxy is the service proxy: one per host, shared by the local
// nodes on it. It makes every Service's clusterIP:port reachable from host
// processes and from containers, and every NodePort on the host's node
// addresses, balancing connections (TCP) and sessions (UDP) over the
// service's ready endpoints.
//
// Data flow:
//
//	Service and Endpoints informers -> sync (debounced, level-based):
//	    Compute(services, endpoints, node addresses) -> desired frontends
//	    -> cluster IPs on the host interface (netif) -> listeners opened,
//	       closed, or given their new backend set in place
//	accept -> balancer.pick (round robin, or ClientIP affinity) -> dial;
//	    a failed dial marks the endpoint and tries the next one; an
//	    endpoint failing repeatedly is skipped until its backoff ends
//	    -> bytes copied both ways (splice) until either side closes.
//
// Replacing a frontend's backends never touches connections already open,
// so a terminating pod's connections drain while new ones go elsewhere.
// See ARCHITECTURE.md for what a kernel-level proxy would change.
package proxy
