package store

import (
	"context"
	"errors"
	"fmt"
)

// Reencrypt seals again, with the primary key, every value under prefix
// that another key sealed (or that is stored in the clear but should be
// sealed), and returns how many it rewrote. Each rewrite is a
// compare-and-swap on the revision it read: a value written meanwhile (by a
// client, or by another server) is read again and rewritten only if it
// still needs it, so no write is ever lost to the rotation.
func (s *Encrypting) Reencrypt(ctx context.Context, prefix string) (int, error) {
	kvs, _, err := s.inner.List(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("re-encrypting %q: %w", prefix, err)
	}
	n := 0
	for _, kv := range kvs {
		rewrote, err := s.reencryptOne(ctx, kv)
		if err != nil {
			return n, fmt.Errorf("re-encrypting %q: %w", prefix, err)
		}
		if rewrote {
			n++
		}
	}
	return n, nil
}

// reencryptOne rewrites one stored value with the primary key unless it is
// sealed with it already, retrying when it changed under the rewrite.
func (s *Encrypting) reencryptOne(ctx context.Context, kv KV) (bool, error) {
	for attempt := 0; ; attempt++ {
		if !s.encrypt(kv.Key) || s.sealedWithPrimary(kv) {
			return false, nil
		}
		plain, err := s.open(kv.Key, kv.Value)
		if err != nil {
			return false, err
		}
		sealed, err := s.seal(kv.Key, plain)
		if err != nil {
			return false, err
		}
		_, err = s.inner.Update(ctx, kv.Key, sealed, kv.ModRevision)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, ErrNotFound):
			return false, nil
		case !errors.Is(err, ErrConflict) || attempt == maxReencryptAttempts:
			return false, err
		}
		if kv, err = s.inner.Get(ctx, kv.Key); errors.Is(err, ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
}

// maxReencryptAttempts bounds the retries of one value that keeps changing.
const maxReencryptAttempts = 16

// sealedWithPrimary reports whether kv's stored value is sealed, in the
// format the keyring writes, with the keyring's primary key.
func (s *Encrypting) sealedWithPrimary(kv KV) bool {
	return s.keys.Load().SealedByPrimary(kv.Key, kv.Value)
}

// KeyUsage counts the stored values under prefix by the ID of the key that
// sealed them; values in the clear count under "". A value no key of the
// keyring opens is an error naming it.
func (s *Encrypting) KeyUsage(ctx context.Context, prefix string) (map[string]int, error) {
	kvs, _, err := s.inner.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("reading key usage under %q: %w", prefix, err)
	}
	ring := s.keys.Load()
	usage := map[string]int{}
	for _, kv := range kvs {
		_, id, err := ring.Open(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		usage[id]++
	}
	return usage, nil
}
