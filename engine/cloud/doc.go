// Package cloud is the contract between maestro's node-pool controllers and
// the places machines come from: a Cloud creates a machine from a request
// (name, cluster, pool, zone, machine type, labels and the bootstrap data its
// agent joins the cluster with), gets it, lists a cluster's machines by pool
// and deletes it.
//
// Every contract of the layer is in types.go (as kine keeps its server's in
// one types.go): the Cloud interface, the request and machine types, the
// sentinel errors and IsRetryable. Implementations live in subpackages
// (local: processes on this machine); cloudtest is the conformance suite every
// implementation runs.
//
// Two rules every implementation keeps, checked by cloudtest:
//   - Create is idempotent by MachineRequest.IdempotencyKey: the same key
//     returns the same machine, never a second one, even when the calls race.
//   - The join token is a Secret: it never appears in an error, a log line or
//     the printed form of any value of this package.
package cloud
