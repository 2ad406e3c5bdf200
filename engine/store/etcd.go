package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Key conventions
//
// Every key passed to a Store starts with "/" (for example
// "/pods/default/web-0"). List and Watch take a plain byte prefix: "/pods/a"
// matches "/pods/a" itself and "/pods/ab/x" as well as "/pods/a/x", so callers
// that mean "the children of a directory" pass a prefix ending in "/"
// ("/pods/a/"). The empty prefix means "/", that is every key of the store.
//
// The Etcd store keeps every key under its own prefix (for example
// "/maestro"), so that several clusters can share one etcd: the interface key
// "/pods/a" is the etcd key "/maestro/pods/a". Because interface keys start
// with "/", a store with the prefix "/maestro" never sees the keys of a store
// with the prefix "/maestro2". Revisions, however, are etcd's: they are shared
// by every store on the same etcd, and Compact compacts them all.

// defaultPageSize is how many keys one List page asks etcd for.
const defaultPageSize = 1000

// maxListAttempts bounds how often List restarts when the revision it pages
// at is compacted under it.
const maxListAttempts = 3

// errClosed is returned by every call on a closed Etcd.
var errClosed = errors.New("store: closed")

// Etcd is a Store over the etcd v3 client. It is safe for concurrent use.
type Etcd struct {
	client   *clientv3.Client
	prefix   string
	pageSize int64
	log      *slog.Logger

	mu       sync.Mutex
	closed   bool
	watchers map[*etcdWatcher]struct{}
}

var _ Store = (*Etcd)(nil)

// NewEtcd returns a Store that keeps its keys under prefix (for example
// "/maestro"; a trailing "/" is ignored, "" stores keys as they are) in the
// etcd that client talks to. The caller keeps ownership of client: Close
// stops the store's watches but does not close the client.
func NewEtcd(client *clientv3.Client, prefix string) *Etcd {
	prefix = strings.TrimRight(prefix, "/")
	return &Etcd{
		client:   client,
		prefix:   prefix,
		pageSize: defaultPageSize,
		log:      slog.Default().With("component", "store", "prefix", prefix),
		watchers: make(map[*etcdWatcher]struct{}),
	}
}

// WithLogger sets the logger the store reports to and returns the store.
func (e *Etcd) WithLogger(log *slog.Logger) *Etcd {
	if log != nil {
		e.log = log.With("component", "store", "prefix", e.prefix)
	}
	return e
}

// Prefix is the prefix the store keeps its keys under, without a trailing "/".
func (e *Etcd) Prefix() string { return e.prefix }

// CurrentRevision returns the revision of etcd's latest write.
func (e *Etcd) CurrentRevision(ctx context.Context) (int64, error) {
	if err := e.checkOpen(); err != nil {
		return 0, fmt.Errorf("reading current revision: %w", err)
	}
	// A count-only read of one key is the cheapest linearizable request that
	// carries the current revision in its header.
	resp, err := e.client.Get(ctx, e.prefix+"/", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("reading current revision: %w", translate(ctx, err))
	}
	return resp.Header.Revision, nil
}

// Compact discards etcd's history before revision. Compacting to a revision
// that is already compacted is not an error. Note that the revision history
// is etcd's, shared by every store on the same etcd.
func (e *Etcd) Compact(ctx context.Context, revision int64) error {
	if err := e.checkOpen(); err != nil {
		return fmt.Errorf("compacting to revision %d: %w", revision, err)
	}
	if revision <= 0 {
		return fmt.Errorf("compacting to revision %d: revision must be positive", revision)
	}
	_, err := e.client.Compact(ctx, revision)
	if err != nil {
		err = translate(ctx, err)
		if errors.Is(err, ErrCompacted) {
			return nil // history before revision is already gone
		}
		return fmt.Errorf("compacting to revision %d: %w", revision, err)
	}
	e.log.DebugContext(ctx, "compacted", "revision", revision)
	return nil
}

// Close stops every watch opened on the store and makes further calls fail.
// It does not close the etcd client, which belongs to the caller.
func (e *Etcd) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	watchers := make([]*etcdWatcher, 0, len(e.watchers))
	for w := range e.watchers {
		watchers = append(watchers, w)
	}
	e.mu.Unlock()
	for _, w := range watchers {
		w.Stop()
	}
	return nil
}

func (e *Etcd) checkOpen() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	return nil
}

// etcdKey maps an interface key onto its etcd key.
func (e *Etcd) etcdKey(key string) (string, error) {
	if !strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("invalid key %q: keys start with \"/\"", key)
	}
	return e.prefix + key, nil
}

// etcdPrefix maps an interface prefix ("" meaning "/") onto the etcd prefix.
func (e *Etcd) etcdPrefix(prefix string) (string, error) {
	if prefix == "" {
		prefix = "/"
	}
	if !strings.HasPrefix(prefix, "/") {
		return "", fmt.Errorf("invalid prefix %q: prefixes start with \"/\"", prefix)
	}
	return e.prefix + prefix, nil
}

// toKV converts an etcd key-value, stripping the store prefix.
func (e *Etcd) toKV(kv *mvccpb.KeyValue) KV {
	return KV{
		Key:            strings.TrimPrefix(string(kv.Key), e.prefix),
		Value:          kv.Value,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
	}
}

// translate maps an etcd client error onto the store's sentinel errors and
// the context's errors, keeping the original error in the chain.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return err
		}
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	switch {
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrGRPCCompacted):
		return fmt.Errorf("%w: %w", ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev), errors.Is(err, rpctypes.ErrGRPCFutureRev):
		return fmt.Errorf("%w: %w", ErrFuture, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isUnavailable(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrGRPCRequestTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	switch status.Code(err) {
	case codes.Canceled:
		return fmt.Errorf("%w: %w", context.Canceled, err)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	case codes.Unavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case codes.ResourceExhausted:
		// The client's own send limit ("trying to send message larger
		// than max"); etcd's "too many requests" is caught above.
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return err
}

// isUnavailable reports etcd's answers that mean "not now": no leader, a
// leader change or a timeout inside etcd, or overload.
func isUnavailable(err error) bool {
	for _, e := range []error{
		rpctypes.ErrNoLeader, rpctypes.ErrGRPCNoLeader,
		rpctypes.ErrLeaderChanged, rpctypes.ErrGRPCLeaderChanged,
		rpctypes.ErrTimeout, rpctypes.ErrGRPCTimeout,
		rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrGRPCTimeoutDueToLeaderFail,
		rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrGRPCTimeoutDueToConnectionLost,
		rpctypes.ErrTooManyRequests, rpctypes.ErrGRPCRequestTooManyRequests,
		rpctypes.ErrNotCapable, rpctypes.ErrGRPCNotCapable,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
