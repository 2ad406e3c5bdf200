// Package controlplane assembles a maestro server: the store (an embedded
// etcd member in the data directory, or an external etcd cluster), secret
// encryption, TLS material, tokens, the registry and the HTTPS API server.
// `maestro server` and the in-process test cluster (internal/testenv) both
// start one through Start.
package controlplane
