// Package netbench measures a network path the way the pod network
// benchmarks compare paths: TCP throughput (one stream, bulk writes) and
// TCP round-trip latency (small messages, one at a time), against a
// server the benchmark runs at the far end (Serve). A Dial function says
// where the client starts (a host's namespace, a pod address), so the
// same code measures host to host, pod to pod over host-gw and over
// WireGuard in one run.
package netbench
