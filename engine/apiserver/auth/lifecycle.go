package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

// DefaultSweepInterval is how often expired tokens are deleted.
const DefaultSweepInterval = time.Minute

// maxCASRetries bounds compare-and-swap retries on a token record.
const maxCASRetries = 16

// UseJoin spends one use of a join token: a compare-and-swap on its record,
// so that two joins racing for the last use cannot both win. The last use
// deletes the token. It returns the record as it was (with its bindings),
// or ErrInvalidToken when the token is unknown, expired, used up or not a
// join token.
func (t *Tokens) UseJoin(ctx context.Context, id string) (Token, error) {
	for range maxCASRetries {
		rec, kv, err := t.read(ctx, id)
		if err != nil {
			return Token{}, err
		}
		if rec.Role != RoleJoin || rec.expired(t.now()) || rec.UsesLeft() <= 0 {
			return Token{}, ErrInvalidToken
		}
		next := rec
		next.Used++
		if next.UsesLeft() <= 0 {
			_, err = t.store.Delete(ctx, kv.Key, kv.ModRevision)
			if err == nil {
				t.forget(id)
			}
		} else {
			err = t.write(ctx, next, kv.ModRevision)
		}
		switch {
		case err == nil:
			return rec, nil
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			continue // another join (or a revocation) got there first: look again
		default:
			return Token{}, fmt.Errorf("using join token %s: %w", id, err)
		}
	}
	return Token{}, fmt.Errorf("using join token %s: %w", id, store.ErrConflict)
}

// ExpireBy shortens a token's life so that it stops working at the latest
// at `at` (a replaced node credential keeps working for a grace period).
// A token already gone is not an error.
func (t *Tokens) ExpireBy(ctx context.Context, id string, at time.Time) error {
	for range maxCASRetries {
		rec, kv, err := t.read(ctx, id)
		if errors.Is(err, ErrInvalidToken) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.Expires != nil && !rec.Expires.After(at) {
			return nil
		}
		at := at.UTC()
		rec.Expires = &at
		err = t.write(ctx, rec, kv.ModRevision)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	return fmt.Errorf("expiring token %s: %w", id, store.ErrConflict)
}

// Get returns a stored token record, or ErrInvalidToken.
func (t *Tokens) Get(ctx context.Context, id string) (Token, error) {
	rec, _, err := t.read(ctx, id)
	return rec, err
}

// Valid reports whether a token exists and has not expired.
func (t *Tokens) Valid(ctx context.Context, id string) (bool, error) {
	rec, err := t.Get(ctx, id)
	if errors.Is(err, ErrInvalidToken) {
		return false, nil
	}
	return err == nil && !rec.expired(t.now()), err
}

// Sweep deletes every expired token and returns how many it deleted.
// Each delete is conditional on the record being unchanged, so servers
// sweeping the same store at once never fight.
func (t *Tokens) Sweep(ctx context.Context) (int, error) {
	kvs, _, err := t.store.List(ctx, tokensPrefix)
	if err != nil {
		return 0, fmt.Errorf("listing tokens: %w", err)
	}
	now, n := t.now(), 0
	for _, kv := range kvs {
		var rec Token
		if json.Unmarshal(kv.Value, &rec) != nil || !rec.expired(now) {
			continue
		}
		_, err := t.store.Delete(ctx, kv.Key, kv.ModRevision)
		switch {
		case err == nil:
			t.forget(rec.ID)
			n++
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		default:
			return n, fmt.Errorf("deleting expired token %s: %w", rec.ID, err)
		}
	}
	return n, nil
}

func (t *Tokens) sweepLoop(ctx context.Context) {
	every := t.SweepInterval
	if every <= 0 {
		every = DefaultSweepInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := t.Sweep(ctx); err != nil && ctx.Err() == nil {
			t.log.Warn("deleting expired tokens failed", "err", err)
		} else if n > 0 {
			t.log.Info("deleted expired tokens", "count", n)
		}
	}
}

// read returns a token record and its stored value.
func (t *Tokens) read(ctx context.Context, id string) (Token, store.KV, error) {
	kv, err := t.store.Get(ctx, tokensPrefix+id)
	if errors.Is(err, store.ErrNotFound) {
		return Token{}, store.KV{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, store.KV{}, fmt.Errorf("reading token %s: %w", id, err)
	}
	var rec Token
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return Token{}, store.KV{}, fmt.Errorf("decoding token %s: %w", id, err)
	}
	return rec, kv, nil
}

// write replaces a token record if it is still at revision expected.
func (t *Tokens) write(ctx context.Context, rec Token, expected int64) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := t.store.Update(ctx, tokensPrefix+rec.ID, b, expected); err != nil {
		return err
	}
	t.put(rec)
	return nil
}

func (t *Tokens) forget(id string) {
	t.mu.Lock()
	delete(t.cache, id)
	t.mu.Unlock()
}
