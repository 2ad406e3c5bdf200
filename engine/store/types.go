// Package store is maestro's versioned key-value store: a small interface with
// compare-and-swap writes and ordered watches, and one implementation over the
// etcd v3 client (an embedded member or an external cluster).
//
// Values are opaque bytes; the API server owns encoding. Revisions are the
// store's global, monotonically increasing write counter: every object's
// resourceVersion is the revision of its last write.
package store

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. A compare-and-swap failure is a result the caller handles
// (ErrConflict), not an internal error.
var (
	ErrNotFound  = errors.New("store: key not found")
	ErrExists    = errors.New("store: key already exists")
	ErrConflict  = errors.New("store: revision conflict")
	ErrCompacted = errors.New("store: revision compacted")
	ErrFuture    = errors.New("store: revision is in the future")
	// ErrPrecondition: a write's precondition on another key failed (the
	// error is a *PreconditionError naming the key).
	ErrPrecondition = errors.New("store: precondition failed")
	// ErrUnavailable: the store cannot serve now (etcd unreachable, no
	// leader, no answer within the request timeout); retry later. A write
	// that failed so may or may not have been applied.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrTooLarge: the value is over the store's request size limit.
	ErrTooLarge = errors.New("store: value too large")
)

// Precondition requires another key to be as the caller last saw it when a
// write commits, in the same transaction: "create this object only while
// its namespace is still as I last saw it", or "write only while my leader
// key still exists".
type Precondition struct {
	Key string
	// ModRevision is the revision the key must be at (its last write).
	ModRevision int64
	// CreateRevision, when non-zero, is compared instead of ModRevision:
	// the key must be the incarnation created at that revision, whatever
	// was written to it since. A lease-bound key (a leader's election key)
	// that expired, or was deleted and created again, fails it.
	CreateRevision int64
}

// PreconditionError says which precondition of a write failed.
type PreconditionError struct {
	Precondition Precondition
}

func (e *PreconditionError) Error() string {
	if e.Precondition.CreateRevision != 0 {
		return fmt.Sprintf("%v: %q is not the key created at revision %d", ErrPrecondition, e.Precondition.Key, e.Precondition.CreateRevision)
	}
	return fmt.Sprintf("%v: %q is not at revision %d", ErrPrecondition, e.Precondition.Key, e.Precondition.ModRevision)
}

// Is makes errors.Is(err, ErrPrecondition) hold.
func (e *PreconditionError) Is(target error) bool { return target == ErrPrecondition }

// KV is one stored value with its revisions.
type KV struct {
	Key   string
	Value []byte
	// CreateRevision is the revision at which the key was created.
	CreateRevision int64
	// ModRevision is the revision of the last write to the key; it is the
	// object's resourceVersion and the expected revision for Update and Delete.
	ModRevision int64
}

// EventType says what happened to a key.
type EventType int

// Event types.
const (
	EventCreated EventType = iota + 1
	EventUpdated
	EventDeleted
)

func (t EventType) String() string {
	switch t {
	case EventCreated:
		return "created"
	case EventUpdated:
		return "updated"
	case EventDeleted:
		return "deleted"
	}
	return "unknown"
}

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// KV is the key after the change. For EventDeleted, KV.Value is the last
	// value before deletion and KV.ModRevision is the revision of the delete.
	KV KV
	// PrevValue is the value before the change (nil for EventCreated).
	PrevValue []byte
}

// Reader is the read view of a store.
type Reader interface {
	// Get returns the current value of key, or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns every key with the prefix, sorted by key, and the revision
	// the list was read at.
	List(ctx context.Context, prefix string) (kvs []KV, revision int64, err error)
	// CurrentRevision is the revision of the latest write.
	CurrentRevision(ctx context.Context) (int64, error)
}

// Writer is the write view of a store. Every write returns the revision it
// was stored at. A write with preconditions commits only if every one holds
// (in the same transaction), and otherwise fails with a *PreconditionError
// (errors.Is ErrPrecondition) naming the first that failed; when they all
// hold, the write's own outcome (ErrExists, ErrConflict, ErrNotFound) is
// reported as without them.
type Writer interface {
	// Create stores a new key, or fails with ErrExists.
	Create(ctx context.Context, key string, value []byte, preconditions ...Precondition) (revision int64, err error)
	// Update replaces the value of key if its ModRevision equals expected;
	// otherwise it fails with ErrConflict (or ErrNotFound if key is absent).
	Update(ctx context.Context, key string, value []byte, expected int64, preconditions ...Precondition) (revision int64, err error)
	// Delete removes key if its ModRevision equals expected (0 means any);
	// otherwise ErrConflict or ErrNotFound. It returns the deleted value.
	Delete(ctx context.Context, key string, expected int64, preconditions ...Precondition) (deleted KV, err error)
}

// Watcher delivers events in revision order until it is stopped, its context
// ends, or it fails.
type Watcher interface {
	// Events is closed when the watch ends; Err then says why (nil when the
	// context was cancelled or Stop was called).
	Events() <-chan Event
	Err() error
	Stop()
}

// Store is the whole interface.
type Store interface {
	Reader
	Writer
	// Watch delivers every event under prefix with a revision greater than
	// fromRevision, in order. A compacted fromRevision fails at once with
	// ErrCompacted (from Watch or, if discovered later, from Watcher.Err).
	Watch(ctx context.Context, prefix string, fromRevision int64) (Watcher, error)
	// Compact discards history before revision; watches from older
	// revisions then fail with ErrCompacted.
	Compact(ctx context.Context, revision int64) error
	Close() error
}
