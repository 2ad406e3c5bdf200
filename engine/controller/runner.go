package controller

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

// Runner drives one reconciler from a work queue of "namespace/name" keys.
type Runner struct {
	Name      string
	Queue     *workqueue.Queue[string]
	Workers   int
	Reconcile func(ctx context.Context, key string) error
	Log       *slog.Logger
}

// NewRunner builds a runner with the default rate limiter.
func NewRunner(name string, workers int, log *slog.Logger, reconcile func(ctx context.Context, key string) error) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		Name:      name,
		Queue:     workqueue.New[string](workqueue.WithName(name)),
		Workers:   workers,
		Reconcile: reconcile,
		Log:       log.With("controller", name),
	}
}

// Run processes keys until ctx ends. Errors requeue the key with backoff.
func (r *Runner) Run(ctx context.Context) {
	r.Log.Debug("controller started", "workers", r.Workers)
	workqueue.Run(ctx, r.Queue, r.Workers, r.Reconcile, func(key string, err error) {
		if ctx.Err() != nil {
			return
		}
		if api.IsConflict(err) {
			// Someone else wrote first; the next pass reads fresh state.
			r.Log.Debug("reconcile conflict; retrying", "key", key)
			return
		}
		r.Log.Warn("reconcile failed; retrying", "key", key, "err", err, "requeues", r.Queue.NumRequeues(key))
	})
}

// Enqueue adds an object's key.
func (r *Runner) Enqueue(obj api.Object) { r.Queue.Add(obj.GetObjectMeta().Key()) }

// EnqueueAfter adds an object's key after a delay (time-driven conditions
// such as minReadySeconds or a progress deadline).
func (r *Runner) EnqueueAfter(key string, d time.Duration) { r.Queue.AddAfter(key, d) }

// Handler enqueues the key of every added, updated or deleted object.
func Handler[T api.Object](r *Runner) client.Handler[T] {
	return client.Handler[T]{
		OnAdd:    func(o T) { r.Enqueue(o) },
		OnUpdate: func(_, o T) { r.Enqueue(o) },
		OnDelete: func(o T) { r.Enqueue(o) },
	}
}

// SplitKey splits "namespace/name" (or "name").
func SplitKey(key string) (namespace, name string) {
	if ns, n, ok := strings.Cut(key, "/"); ok {
		return ns, n
	}
	return "", key
}

// ControllerOf returns the owner reference marked as controller, or nil.
func ControllerOf(obj api.Object) *api.OwnerReference { return obj.GetObjectMeta().ControllerRef() }

// NewControllerRef makes an owner reference marking owner as the
// controller of a dependent, blocking the owner's foreground deletion.
func NewControllerRef(owner api.Object) api.OwnerReference {
	meta := owner.GetObjectMeta()
	return api.OwnerReference{
		APIVersion: api.APIVersion, Kind: api.KindOf(owner).Kind, Name: meta.Name, UID: meta.UID,
		Controller: api.Ptr(true), BlockOwnerDeletion: api.Ptr(true),
	}
}
