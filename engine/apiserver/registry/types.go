package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// Operation names the write an admitter is asked about.
type Operation string

// Operations.
const (
	OpCreate Operation = "CREATE"
	OpUpdate Operation = "UPDATE"
	OpDelete Operation = "DELETE"
)

// Attributes describe one write for admission.
type Attributes struct {
	Op          Operation
	Kind        *api.KindInfo
	Object      api.Object // the new object (nil on delete)
	Old         api.Object // the stored object (nil on create)
	Subresource string
	DryRun      bool
	// Requester is who asked for the write (from the request's context).
	Requester Requester
}

// Requester is who makes a write, for admitters that decide by it.
type Requester struct {
	// Node is the node's name when the caller is a node's agent ("" otherwise).
	Node string
}

type requesterKey struct{}

// WithRequester records who makes the writes done with ctx.
func WithRequester(ctx context.Context, r Requester) context.Context {
	return context.WithValue(ctx, requesterKey{}, r)
}

// RequesterFrom is the requester recorded in ctx (zero when none).
func RequesterFrom(ctx context.Context) Requester {
	r, _ := ctx.Value(requesterKey{}).(Requester)
	return r
}

// Admitter checks, and may mutate, a write after validation and before it
// is stored. An error rejects the write; it should be an *api.StatusError.
type Admitter interface {
	Admit(ctx context.Context, a Attributes) error
}

// Releaser is an admitter that also hears about completed deletes, to free
// what it allocated (cluster IPs, node ports).
type Releaser interface {
	Released(ctx context.Context, obj api.Object)
}

// Selectors filter lists and watches.
type Selectors struct {
	Labels labels.Selector // nil selects everything
	Fields FieldSelector
}

// Empty reports whether the selectors select everything.
func (s Selectors) Empty() bool {
	return (s.Labels == nil || s.Labels.Empty()) && len(s.Fields) == 0
}

// Matches reports whether the object passes both selectors.
func (s Selectors) Matches(obj api.Object) bool {
	if s.Labels != nil && !s.Labels.Matches(labels.Set(obj.GetObjectMeta().Labels)) {
		return false
	}
	return s.Fields.Matches(obj)
}

// WriteOptions modify a create or update.
type WriteOptions struct {
	DryRun bool
	// NamespaceMayBeNew, on a dry-run create, takes a namespace that does
	// not exist for a new, empty one: a plan that creates the namespace
	// too still has the object validated and its pods previewed.
	NamespaceMayBeNew bool
	// Subresource "status" updates only the status.
	Subresource string
	// Fence, when set, must still hold when the write commits (in the same
	// store transaction): the elected leader's term, so that the writes of
	// a leader that lost its lease fail instead of landing.
	Fence *api.LeaderFence
}

// Propagation policies for deletes.
const (
	PropagationBackground = "Background"
	PropagationForeground = "Foreground"
	PropagationOrphan     = "Orphan"
)

// DeleteOptions modify a delete.
type DeleteOptions struct {
	DryRun bool
	// Precondition, when non-zero, must equal the stored resourceVersion.
	Precondition int64
	// GracePeriodSeconds overrides a pod's termination grace period; 0
	// deletes at once.
	GracePeriodSeconds *int64
	PropagationPolicy  string
	// Fence is as in WriteOptions.
	Fence *api.LeaderFence
}

// Event is one change seen by a watch, already filtered by selectors.
type Event struct {
	Type     string // api.WatchAdded, WatchModified, WatchDeleted
	Object   api.Object
	Revision int64
	// encoded returns the object's JSON, made once and shared by every
	// watcher that sends the object (nil for bookmarks).
	encoded func() []byte
}

// JSON is the object's wire encoding.
func (e Event) JSON() ([]byte, error) {
	if e.encoded != nil {
		if b := e.encoded(); b != nil {
			return b, nil
		}
	}
	return json.Marshal(e.Object)
}

// Clock is time.Now, replaceable in tests.
type Clock func() time.Time
