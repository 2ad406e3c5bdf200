package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Each write is one etcd transaction: a compare on the key's revisions and
// on every precondition, the write if they all hold, and otherwise a read of
// the key and of each precondition key, so that a failed compare can tell a
// failed precondition from a conflict (the key exists at another revision)
// and from a missing key without a second round trip.

// Create stores a new key, or fails with ErrExists.
func (e *Etcd) Create(ctx context.Context, key string, value []byte, preconditions ...Precondition) (int64, error) {
	if err := e.checkOpen(); err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, err)
	}
	ek, err := e.etcdKey(key)
	if err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, err)
	}
	resp, err := e.commit(ctx, ek, clientv3.Compare(clientv3.CreateRevision(ek), "=", 0),
		clientv3.OpPut(ek, string(value)), preconditions)
	if err != nil {
		return 0, fmt.Errorf("creating %q: %w", key, err)
	}
	if !resp.Succeeded {
		if err := failedPrecondition(resp, preconditions); err != nil {
			return 0, fmt.Errorf("creating %q: %w", key, err)
		}
		return 0, fmt.Errorf("creating %q: %w", key, ErrExists)
	}
	return resp.Header.Revision, nil
}

// Update replaces the value of key if its ModRevision equals expected, and
// otherwise fails with ErrConflict, or ErrNotFound if the key is absent.
// expected must be positive: an unconditional update is a Get then an Update.
func (e *Etcd) Update(ctx context.Context, key string, value []byte, expected int64, preconditions ...Precondition) (int64, error) {
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
	resp, err := e.commit(ctx, ek, clientv3.Compare(clientv3.ModRevision(ek), "=", expected),
		clientv3.OpPut(ek, string(value)), preconditions)
	if err != nil {
		return 0, fmt.Errorf("updating %q: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("updating %q at revision %d: %w", key, expected, compareFailure(resp, preconditions))
	}
	return resp.Header.Revision, nil
}

// Delete removes key if its ModRevision equals expected (0 means any), and
// otherwise fails with ErrConflict or ErrNotFound. The returned KV holds the
// deleted value and CreateRevision; its ModRevision is the revision of the
// delete, as in the EventDeleted a watch sees.
func (e *Etcd) Delete(ctx context.Context, key string, expected int64, preconditions ...Precondition) (KV, error) {
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
	resp, err := e.commit(ctx, ek, cmp, clientv3.OpDelete(ek, clientv3.WithPrevKV()), preconditions)
	if err != nil {
		return KV{}, fmt.Errorf("deleting %q: %w", key, err)
	}
	if !resp.Succeeded {
		return KV{}, fmt.Errorf("deleting %q at revision %d: %w", key, expected, compareFailure(resp, preconditions))
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

// commit runs one write transaction: own (the compare on the key itself)
// and the preconditions guard then; the Else branch reads the key (response
// 0) and each precondition key (responses 1..n).
func (e *Etcd) commit(ctx context.Context, ek string, own clientv3.Cmp, then clientv3.Op, preconditions []Precondition) (*clientv3.TxnResponse, error) {
	cmps := make([]clientv3.Cmp, 0, 1+len(preconditions))
	reads := make([]clientv3.Op, 0, 1+len(preconditions))
	cmps = append(cmps, own)
	reads = append(reads, clientv3.OpGet(ek, clientv3.WithKeysOnly()))
	for _, p := range preconditions {
		pk, err := e.etcdKey(p.Key)
		if err != nil {
			return nil, fmt.Errorf("precondition: %w", err)
		}
		if p.CreateRevision != 0 {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(pk), "=", p.CreateRevision))
		} else {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(pk), "=", p.ModRevision))
		}
		reads = append(reads, clientv3.OpGet(pk, clientv3.WithKeysOnly()))
	}
	resp, err := e.client.Txn(ctx).If(cmps...).Then(then).Else(reads...).Commit()
	if err != nil {
		return nil, translate(ctx, err)
	}
	return resp, nil
}

// failedPrecondition reads the Else branch of a failed write transaction
// and returns a *PreconditionError for the first precondition that does not
// hold, or nil when they all do.
func failedPrecondition(resp *clientv3.TxnResponse, preconditions []Precondition) error {
	for i, p := range preconditions {
		var created, modified int64
		if i+1 < len(resp.Responses) {
			if r := resp.Responses[i+1].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
				created, modified = r.Kvs[0].CreateRevision, r.Kvs[0].ModRevision
			}
		}
		if (p.CreateRevision != 0 && created != p.CreateRevision) || (p.CreateRevision == 0 && modified != p.ModRevision) {
			return &PreconditionError{Precondition: p}
		}
	}
	return nil
}

// compareFailure reads the Else branch of a failed update or delete: a
// precondition failed, or the key exists at another revision (ErrConflict),
// or it does not exist (ErrNotFound).
func compareFailure(resp *clientv3.TxnResponse, preconditions []Precondition) error {
	if err := failedPrecondition(resp, preconditions); err != nil {
		return err
	}
	if len(resp.Responses) > 0 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			return fmt.Errorf("%w: key is at revision %d", ErrConflict, r.Kvs[0].ModRevision)
		}
	}
	return ErrNotFound
}
