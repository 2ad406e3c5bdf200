// Package multihost holds the tests of what crosses hosts: the pod network,
// services and DNS across hosts, host loss and rolling updates, on emulated
// hosts (internal/testbed) with a real `maestro server` and one `maestro
// agent` per host on the machine's Docker engine. It has no code of its own:
// the tests and benchmarks are the package.
//
// The bed every test uses: sites a (hosts h1, h2) and b (host h3), joined
// only through the router; the server on h1, an agent on every host, so h1
// and h2 route each other's pods directly (host-gw) and both reach h3
// through the WireGuard mesh (the cluster's auto mode).
package multihost
