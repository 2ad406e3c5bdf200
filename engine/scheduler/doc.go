// Package scheduler places pending pods on nodes: a filter -> score ->
// select pipeline over an in-memory cache of nodes and their allocations,
// in the manner of Kubernetes' scheduler framework and Nomad's feasibility
// checks.
//
// # Data flow
//
//	pod informer ──┬─ bound pods ───────────────> Cache (nodes, allocations, assumed pods)
//	node informer ─┘                                 │  │ pod-change log
//	volume informer ──> VolumeBook (where each Volume lives, assumed first placements)
//	      │ unbound pods                             │  │
//	      v                                          │  v
//	   Queue: active heap <- backoff heap <- unschedulable pool
//	      │ Pop                                      │  (moved back by node/pod events
//	      v                                          │   that could help; 60 s flush)
//	   cycle: UpdateSnapshot ──────────────> Snapshot (changed nodes copied,
//	      │                                          topology index replayed)
//	      ├─ PreFilter: per-pod state, once (spread/affinity counts from the index)
//	      ├─ Filter: from a rotating offset until enough feasible nodes (sampling)
//	      ├─ Score: each scorer normalized to 0..100, weighted sum
//	      ├─ Select: highest total, ties broken at random
//	      ├─ fits nowhere: back to the pool; PodScheduled=False with the counted reasons
//	      └─ Assume in the Cache ─> worker: place new volumes (create the Volume, or
//	                                  CAS its status.nodeName), then Binder (CAS
//	                                  update of spec.nodeName)
//	                                  ok: watch confirms the assumption
//	                                  failed: forget, back to the queue with backoff
//
// # Pieces
//
//   - PodInfo and NodeInfo hold what the filters need in precomputed form
//     (integer requests, parsed selectors, resolved namespaces), so the
//     per-node loop never parses or allocates.
//   - Cache is fed by informers and by the scheduler's assumptions; it
//     hands out Snapshots that copy only what changed (generations).
//   - The topology index (topology.go) counts pods per topology domain per
//     selector, incrementally, so affinity and spread cost O(domains).
//   - Pipeline composes the filters (filters.go) and scorers (scores.go)
//     in one constructor; every rejection is a Reason constant, and a pod
//     that fits nowhere is a Result whose Diagnosis renders as
//     "0/5 nodes available: 3 insufficient memory, 2 node(s) didn't match
//     Pod's node affinity/selector".
//   - VolumeBook and volumeFilter (volumes.go) keep a pod on the node that
//     holds its persistent volumes' data; the first placement of a volume
//     decides that node.
//   - Queue orders pending pods and keeps unschedulable ones out of the
//     loop until an event could let them fit.
//   - Scheduler wires informers, queue, cache, pipeline and Binder. A pod
//     that fits nowhere gets PodScheduled=False with the Diagnosis, and a
//     Warning event FailedScheduling with the same message (events.go:
//     a changed verdict at once, an unchanged one at most once a minute,
//     folded by the recorder into one event with a count).
//   - Preview runs the same pipeline on a private copy of a Snapshot for
//     dry runs and plan previews; NewSnapshotFrom builds one from lists.
package scheduler
