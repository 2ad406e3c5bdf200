package store

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Get returns the current value of key, or ErrNotFound.
func (e *Etcd) Get(ctx context.Context, key string) (KV, error) {
	if err := e.checkOpen(); err != nil {
		return KV{}, fmt.Errorf("getting %q: %w", key, err)
	}
	ek, err := e.etcdKey(key)
	if err != nil {
		return KV{}, fmt.Errorf("getting %q: %w", key, err)
	}
	resp, err := e.client.Get(ctx, ek)
	if err != nil {
		return KV{}, fmt.Errorf("getting %q: %w", key, translate(ctx, err))
	}
	if len(resp.Kvs) == 0 {
		return KV{}, fmt.Errorf("getting %q: %w", key, ErrNotFound)
	}
	return e.toKV(resp.Kvs[0]), nil
}

// List returns every key under prefix, sorted by key, and the revision it was
// read at. It reads in pages of at most pageSize keys, all at the revision of
// the first page, so the result is one consistent snapshot however long the
// list; if that revision is compacted while paging, List starts again.
func (e *Etcd) List(ctx context.Context, prefix string) ([]KV, int64, error) {
	if err := e.checkOpen(); err != nil {
		return nil, 0, fmt.Errorf("listing %q: %w", prefix, err)
	}
	ep, err := e.etcdPrefix(prefix)
	if err != nil {
		return nil, 0, fmt.Errorf("listing %q: %w", prefix, err)
	}
	for attempt := 1; ; attempt++ {
		kvs, rev, err := e.list(ctx, ep)
		if err == nil {
			return kvs, rev, nil
		}
		if !errors.Is(err, ErrCompacted) || attempt == maxListAttempts || ctx.Err() != nil {
			return nil, 0, fmt.Errorf("listing %q: %w", prefix, err)
		}
		e.log.WarnContext(ctx, "list revision compacted while paging; listing again",
			"list_prefix", prefix, "attempt", attempt, "error", err)
	}
}

// list pages through the etcd keys under ep at one revision.
func (e *Etcd) list(ctx context.Context, ep string) ([]KV, int64, error) {
	end := clientv3.GetPrefixRangeEnd(ep)
	from := ep
	var (
		kvs []KV
		rev int64
	)
	for {
		opts := []clientv3.OpOption{
			clientv3.WithRange(end),
			clientv3.WithLimit(e.pageSize),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend),
		}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := e.client.Get(ctx, from, opts...)
		if err != nil {
			return nil, 0, translate(ctx, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
			if resp.Count > 0 {
				kvs = make([]KV, 0, resp.Count)
			}
		}
		for _, kv := range resp.Kvs {
			kvs = append(kvs, e.toKV(kv))
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return kvs, rev, nil
		}
		// The next page starts just after the last key of this one.
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
