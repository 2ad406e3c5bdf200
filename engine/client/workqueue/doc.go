// Package workqueue is the work queue maestro's controllers are built on: an
// informer or watch handler Adds the key of an object that changed, and
// workers Get keys, reconcile the object the key names, and call Done.
//
// The queue gives controllers three guarantees that make reconcilers simple
// to write:
//
//   - A key is never handed to two workers at once, so a reconciler never
//     races with itself over one object.
//   - A key added while it is being processed is not lost: it is handed out
//     again, once, after Done. Reconcilers read current state, so one extra
//     pass covers any number of changes made during the first.
//   - Adds of a key that is already waiting merge into one, so a burst of
//     events for an object costs one reconcile.
//
// Ready keys are handed out in FIFO order. AddAfter delays a key (one
// goroutine per queue keeps the deadlines in a heap), and AddRateLimited
// delays it by what the queue's RateLimiter says, which by default backs one
// failing key off exponentially without slowing the others.
//
// Run wires a queue to n workers and the retry policy every controller wants:
// an error re-queues the key with backoff, success forgets the backoff.
//
// The semantics follow client-go's workqueue, so controller code ported from
// Kubernetes behaves the same; the API is generic over the key type instead
// of taking interface{}.
package workqueue
