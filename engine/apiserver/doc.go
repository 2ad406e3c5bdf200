// Package apiserver serves maestro's REST API over HTTPS with JSON.
//
// Paths: /v1/namespaces/{ns}/{plural}[/{name}[/status]] for namespaced kinds,
// /v1/{plural}[/{name}[/status]] for cluster-scoped kinds (and for lists of a
// namespaced kind across all namespaces). A request passes, in order:
// recovery -> metrics -> authentication (401) -> body read within a deadline
// (408, 413) -> a seat of the caller's priority level (429 with Retry-After;
// watches take none but count against a per-token limit) -> routing ->
// authorization (403) -> strict decoding (400 naming the field) -> the
// registry (validation 422, size 413, conflicts 409, admission; 503 when the
// store does not answer) -> JSON answer.
// Watches (?watch=1&resourceVersion=N) stream newline-delimited JSON events
// and answer 410 (reason Expired) when N was compacted. GET /v1/cluster-info
// describes the service network (service CIDR, DNS address, cluster domain,
// node port range) to any authenticated role.
//
// Usage (usage.go, never stored): agents POST /v1/nodemetrics/{node} every
// metrics interval (a node for itself only); viewers and admins read
// GET /v1/[namespaces/{ns}/]podmetrics[/{name}] and /v1/nodemetrics[/{name}]
// (?labelSelector=) from the in-memory store of engine/metrics.
package apiserver
