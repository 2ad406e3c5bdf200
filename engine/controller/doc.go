// Package controller holds maestro's level-based reconcilers and the small
// framework they share:
//
//	informer (list+watch cache) --handler--> key "ns/name" --> work queue
//	   --> worker: Reconcile(ctx, key) reads the caches, converges through the
//	       API client, returns an error to be retried with backoff
//
// Event handlers only enqueue keys; the same key never runs twice at once
// (workqueue); every controller reads from one shared set of informers.
//
// Controllers: replicaset.go, deployment*.go, endpoints.go, service.go
// (load balancer status), nodelifecycle*.go, garbagecollector.go,
// namespace.go; nodeipam/ (pod CIDRs) is a package of its own, built from
// the same Deps. engine/manager runs
// them all (RunAll, manager.go) with the scheduler; the control plane
// starts it on the elected leader.
package controller
