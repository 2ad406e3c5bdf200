// Package prober runs a node's liveness, readiness and startup probes and
// reports when their results change.
//
// One worker goroutine runs per (pod, container, kind). The agent's sync loop
// calls Ensure for every probe of every running container on each pass
// (Ensure is idempotent) and Remove or RemovePod when containers or pods go
// away; it reads Result when it computes a pod's status, and onChange tells
// it when to compute again:
//
//	agent sync ─Ensure─> Manager ─start/restart─> worker (container, kind)
//	                                                 │ wait initialDelaySeconds from startedAt,
//	                                                 │ then every periodSeconds:
//	                                                 │   HTTP GET / TCP connect / exec (timeoutSeconds)
//	                                                 │   failureThreshold / successThreshold runs
//	agent status <─Result── Manager <───set─────────┘
//	agent queue  <─onChange(Update)── (only when a result changes)
//
// The semantics are Kubernetes' (kubelet's prober): readiness starts as
// Failure, liveness as Success (so nothing is killed before its first
// probe), startup as Unknown; liveness and readiness are not probed until
// the container's startup probe, if any, has succeeded; startup stops
// probing once it has; a liveness or startup Failure holds its worker until
// the container is replaced (a new container id), so a dying container is
// not probed again. A probe that cannot run at all (an unknown named port,
// a runtime error) leaves the result unchanged, as kubelet's probe.Unknown
// does.
package prober
