package allocator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// errTaken: the value is claimed by another service.
var errTaken = errors.New("allocator: value taken")

// errFull: the pool has no free value.
var errFull = errors.New("allocator: range full")

// owner identifies the service a claim is made for.
type owner struct {
	namespace, name, uid string
}

func ownerOf(svc *api.Service) owner {
	return owner{namespace: svc.Namespace, name: svc.Name, uid: svc.UID}
}

// claimValue encodes a claim for o, stamped now.
func (a *Allocator) claimValue(o owner) []byte {
	b, _ := json.Marshal(claimRecord{Namespace: o.namespace, Name: o.name, UID: o.uid, Time: a.now().UTC()})
	return b
}

// claim takes the value v of pool p for o. A claim o already holds (an
// update retried after a lost compare-and-swap) counts as taken by o.
func (a *Allocator) claim(ctx context.Context, p *pool, v string, o owner) error {
	for range 3 {
		_, err := a.store.Create(ctx, p.key(v), a.claimValue(o))
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("claiming %s %s: %w", p.what, v, err)
		}
		held, err := a.heldBy(ctx, p, v, o)
		if err != nil || held {
			return err
		}
		// Released between the create and the read: try again.
	}
	return errTaken
}

// heldBy reports whether v is unclaimed (false, nil), claimed by o
// (true, nil) or by another service (errTaken). Dry runs use it alone:
// it reads, never writes.
func (a *Allocator) heldBy(ctx context.Context, p *pool, v string, o owner) (bool, error) {
	kv, err := a.store.Get(ctx, p.key(v))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the claim of %s %s: %w", p.what, v, err)
	}
	var c claimRecord
	if json.Unmarshal(kv.Value, &c) == nil && c.UID == o.uid && o.uid != "" {
		return true, nil
	}
	return false, errTaken
}

// allocate claims a free value of p for o: it lists the claims, then scans
// from a random offset for one neither claimed nor reserved, and claims
// it; a value another server claimed meanwhile is skipped. exclude holds
// offsets this write already took.
func (a *Allocator) allocate(ctx context.Context, p *pool, o owner, exclude map[uint64]bool) (string, error) {
	claimed, err := a.claimedOffsets(ctx, p)
	if err != nil {
		return "", err
	}
	start := rand.Uint64N(p.size)
	for i := range p.size {
		off := (start + i) % p.size
		if claimed[off] || exclude[off] || p.reserved(off) || p.unusable(off) {
			continue
		}
		v := p.format(off)
		_, err := a.store.Create(ctx, p.key(v), a.claimValue(o))
		if errors.Is(err, store.ErrExists) {
			continue // another server won this one
		}
		if err != nil {
			return "", fmt.Errorf("claiming %s %s: %w", p.what, v, err)
		}
		return v, nil
	}
	return "", errFull
}

// claimedOffsets lists p's claims as offsets (claims outside the current
// range, left from an earlier configuration, are ignored).
func (a *Allocator) claimedOffsets(ctx context.Context, p *pool) (map[uint64]bool, error) {
	kvs, _, err := a.store.List(ctx, p.prefix)
	if err != nil {
		return nil, fmt.Errorf("listing %s claims: %w", p.what, err)
	}
	out := make(map[uint64]bool, len(kvs))
	for _, kv := range kvs {
		if off, ok := p.parse(strings.TrimPrefix(kv.Key, p.prefix)); ok {
			out[off] = true
		}
	}
	return out, nil
}

// release deletes v's claim if o holds it: a claim someone else holds
// (made after o's was repaired away) stays.
func (a *Allocator) release(ctx context.Context, p *pool, v string, o owner) error {
	kv, err := a.store.Get(ctx, p.key(v))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the claim of %s %s: %w", p.what, v, err)
	}
	var c claimRecord
	if err := json.Unmarshal(kv.Value, &c); err == nil && c.UID != o.uid {
		return nil
	}
	_, err = a.store.Delete(ctx, kv.Key, kv.ModRevision)
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("releasing %s %s: %w", p.what, v, err)
	}
	return nil
}
