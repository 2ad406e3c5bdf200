// Package record writes Events about objects on behalf of a component (a
// controller, the scheduler, a node agent), folding repeats into counts.
package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Recorder writes Events about objects, for `maestro describe` and people
// debugging. Repeats of the same reason and message on the same object bump
// one event's count instead of creating more. Recording never blocks or
// fails the caller: events are best effort.
type Recorder struct {
	client    *client.Client
	component string
	log       *slog.Logger
	queue     chan *api.Event
}

// New builds a recorder; Run sends its events.
func New(c *client.Client, component string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{client: c, component: component, log: log, queue: make(chan *api.Event, 1000)}
}

// Eventf records an event of type api.EventNormal or api.EventWarning.
func (r *Recorder) Eventf(obj api.Object, typ, reason, format string, args ...any) {
	if r == nil {
		return
	}
	meta := obj.GetObjectMeta()
	msg := fmt.Sprintf(format, args...)
	ns := meta.Namespace
	if ns == "" {
		ns = api.NamespaceDefault
	}
	sum := sha256.Sum256([]byte(meta.UID + "\x00" + reason + "\x00" + msg))
	now := time.Now().UTC().Truncate(time.Second)
	ev := &api.Event{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: strings.ToLower(meta.Name) + "." + hex.EncodeToString(sum[:6])},
		InvolvedObject: api.ObjectReference{Kind: api.KindOf(obj).Kind, Namespace: meta.Namespace, Name: meta.Name,
			UID: meta.UID, ResourceVersion: meta.ResourceVersion},
		Reason: reason, Message: msg, Type: typ, Count: 1,
		FirstTimestamp: now, LastTimestamp: now,
		Source: api.EventSource{Component: r.component},
	}
	select {
	case r.queue <- ev:
	default:
		r.log.Debug("event queue full; dropping event", "reason", reason, "object", meta.Key())
	}
}

// Run sends recorded events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.queue:
			r.send(ctx, ev)
		}
	}
}

func (r *Recorder) send(ctx context.Context, ev *api.Event) {
	events := r.client.Events(ev.Namespace)
	_, err := events.Create(ctx, ev)
	if api.IsAlreadyExists(err) {
		var existing *api.Event
		if existing, err = events.Get(ctx, ev.Name); err == nil {
			existing.Count++
			existing.LastTimestamp = ev.LastTimestamp
			_, err = events.Update(ctx, existing)
		}
	}
	if err != nil && ctx.Err() == nil && !api.IsNotFound(err) && !api.IsForbidden(err) {
		r.log.Debug("recording event failed", "reason", ev.Reason, "err", err)
	}
}
