// Package controlplane assembles a maestro server: the store (an embedded
// etcd member in the data directory, or an external etcd cluster), secret
// encryption (and key rotation), TLS material, tokens, the registry and the
// HTTPS API server; the leader election that runs the scheduler and
// controllers on one server at a time (election.go, lease.go); backups,
// periodic and through the API, and restores (backups.go, restore.go).
// `maestro server` and the in-process test cluster (internal/testenv) both
// start one through Start.
package controlplane
