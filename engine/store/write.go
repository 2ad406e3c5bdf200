package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Each write is one etcd transaction: a compare on the key's revisions, the
// write if it holds, and otherwise a read of the key so that a failed compare
// can tell a conflict (the key exists at another revision) from a missing
// key without a second round trip.

// Create stores a new key, or fails with ErrExists.
func (e *Etcd) Create(ctx context.Context, key string, value []byte, preconditions ...Precondition) (int64, error) {
	if err := e.checkOpen(); err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, err)
	}
	ek, err := e.etcdKey(key)
	if err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, err)
	}
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(ek), "=", 0)}
	for _, p := range preconditions {
		pk, err := e.etcdKey(p.Key)
		if err != nil {
			return 0, fmt.Errorf("creating %q: precondition: %w", key, err)
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(pk), "=", p.ModRevision))
	}
	txn := e.client.Txn(ctx).If(cmps...).Then(clientv3.OpPut(ek, string(value)))
	if len(preconditions) > 0 {
		// On failure, tell "exists" from "precondition failed".
		txn = txn.Else(clientv3.OpGet(ek, clientv3.WithCountOnly()))
	}
	resp, err := txn.Commit()
	if err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, translate(ctx, err))
	}
	if !resp.Succeeded {
		if len(preconditions) > 0 && resp.Responses[0].GetResponseRange().Count == 0 {
			return 0, fmt.Errorf("creating %q: %w", key, ErrPrecondition)
		}
		return 0, fmt.Errorf("creating %q: %w", key, ErrExists)
	}
	return resp.Header.Revision, nil
}

// Update replaces the value of key if its ModRevision equals expected, and
// otherwise fails with ErrConflict, or ErrNotFound if the key is absent.
// expected must be positive: an unconditional update is a Get then an Update.
func (e *Etcd) Update(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	if err := e.checkOpen(); err != nil {
		return 0, fmt.Errorf("updating %q: %w", key, err)
	}
	ek, err := e.etcdKey(key)
	if err != nil {
		return 0, fmt.Errorf("updating %q: %w", key, err)
	}
	if expected <= 0 {
		return 0, fmt.Errorf("updating %q: expected revision %d is not positive", key, expected)
	}
	// A missing key has ModRevision 0, so the compare also fails for it.
	resp, err := e.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(ek), "=", expected)).
		Then(clientv3.OpPut(ek, string(value))).
		Else(clientv3.OpGet(ek, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("updating %q: %w", key, translate(ctx, err))
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("updating %q at revision %d: %w", key, expected, compareFailure(resp))
	}
	return resp.Header.Revision, nil
}

// Delete removes key if its ModRevision equals expected (0 means any), and
// otherwise fails with ErrConflict or ErrNotFound. The returned KV holds the
// deleted value and CreateRevision; its ModRevision is the revision of the
// delete, as in the EventDeleted a watch sees.
func (e *Etcd) Delete(ctx context.Context, key string, expected int64) (KV, error) {
	if err := e.checkOpen(); err != nil {
		return KV{}, fmt.Errorf("deleting %q: %w", key, err)
	}
	ek, err := e.etcdKey(key)
	if err != nil {
		return KV{}, fmt.Errorf("deleting %q: %w", key, err)
	}
	if expected < 0 {
		return KV{}, fmt.Errorf("deleting %q: expected revision %d is negative", key, expected)
	}
	cmp := clientv3.Compare(clientv3.ModRevision(ek), "=", expected)
	if expected == 0 {
		cmp = clientv3.Compare(clientv3.CreateRevision(ek), ">", 0)
	}
	resp, err := e.client.Txn(ctx).
		If(cmp).
		Then(clientv3.OpDelete(ek, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(ek, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return KV{}, fmt.Errorf("deleting %q: %w", key, translate(ctx, err))
	}
	if !resp.Succeeded {
		return KV{}, fmt.Errorf("deleting %q at revision %d: %w", key, expected, compareFailure(resp))
	}
	del := resp.Responses[0].GetResponseDeleteRange()
	if del == nil || len(del.PrevKvs) == 0 {
		// Only possible if the key vanished between compare and delete,
		// which one transaction rules out.
		return KV{}, fmt.Errorf("deleting %q: %w", key, ErrNotFound)
	}
	kv := e.toKV(del.PrevKvs[0])
	kv.ModRevision = resp.Header.Revision
	return kv, nil
}

// compareFailure reads the Else branch of a failed write transaction: the key
// exists (ErrConflict) or it does not (ErrNotFound).
func compareFailure(resp *clientv3.TxnResponse) error {
	if len(resp.Responses) > 0 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			return fmt.Errorf("%w: key is at revision %d", ErrConflict, r.Kvs[0].ModRevision)
		}
	}
	return ErrNotFound
}
