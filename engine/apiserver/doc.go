// Package apiserver serves maestro's REST API over HTTPS with JSON.
//
// Paths: /v1/namespaces/{ns}/{plural}[/{name}[/status]] for namespaced kinds,
// /v1/{plural}[/{name}[/status]] for cluster-scoped kinds (and for lists of a
// namespaced kind across all namespaces). A request passes, in order:
// recovery -> metrics -> in-flight limit (429) -> authentication (401) ->
// routing -> authorization (403) -> body limit (413) and strict decoding (400)
// -> the registry (validation 422, conflicts 409, admission) -> JSON answer.
// Watches (?watch=1&resourceVersion=N) stream newline-delimited JSON events
// and answer 410 (reason Expired) when N was compacted. GET /v1/cluster-info
// describes the service network (service CIDR, DNS address, cluster domain,
// node port range) to any authenticated role.
package apiserver
