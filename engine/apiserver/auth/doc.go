// Package auth authenticates API requests by bearer token and authorizes
// them by role.
//
// Tokens look like "<id>.<secret>". Only a SHA-256 hash of the secret is
// stored (in the store under /tokens/<id>), so a leaked store does not leak
// credentials; every API server sharing the store sees the same tokens
// through a watch-fed cache.
//
// Roles:
//   - admin: everything;
//   - viewer: read everything except secrets;
//   - node: an agent; its own Node, the pods bound to it, and only the config
//     maps and secrets those pods use; read services, endpoints, nodes and
//     namespaces (for the service proxy and DNS); write events;
//   - join: nothing but exchanging itself for a node credential (expiring).
package auth
