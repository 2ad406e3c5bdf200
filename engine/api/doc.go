// Package api defines maestro's object kinds (metadata, spec and status), their
// validation and defaulting, and the kind registry the API server and clients
// use to map kinds to URL paths.
//
// The shapes follow Kubernetes wherever the concept is the same, so JSON field
// names are the ones platform engineers already know (containerPort,
// matchLabels, terminationGracePeriodSeconds). Quantities live in
// api/resource and label selectors in api/labels; this package imports
// nothing else of maestro's.
package api
