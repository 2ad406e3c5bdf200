package allocator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
)

var serviceKind = api.MustKind("Service")

// Run repairs at once and then every repair interval until ctx ends.
// Every API server runs it: repairs are idempotent and every delete is a
// compare-and-swap on the claim it read.
func (a *Allocator) Run(ctx context.Context) {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		if err := a.Repair(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("repairing service IP and node port claims failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Repair makes the claims match the Services: it deletes claims no
// Service uses that are older than the grace period (a younger one may
// belong to a create still in flight), and claims the in-range values of
// Services that have none (stored before the allocator, or repaired away
// by mistake).
//
// Claims are listed before Services, so a claim of a Service stored
// before the Service listing is always seen as used.
func (a *Allocator) Repair(ctx context.Context) error {
	pools := []*pool{a.ips, a.ports}
	claims := make([][]store.KV, len(pools))
	for i, p := range pools {
		kvs, _, err := a.store.List(ctx, p.prefix)
		if err != nil {
			return fmt.Errorf("listing %s claims: %w", p.what, err)
		}
		claims[i] = kvs
	}
	used, err := a.usedValues(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i, p := range pools {
		freed, adopted, err := a.repairPool(ctx, p, claims[i], used[i])
		if freed+adopted > 0 {
			a.log.Info("repaired service allocations", "kind", p.what, "freed", freed, "claimed", adopted)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// usedValues maps every cluster IP and node port in use to its Service
// (index 0: IPs, 1: node ports, as claim names).
func (a *Allocator) usedValues(ctx context.Context) ([2]map[string]owner, error) {
	used := [2]map[string]owner{{}, {}}
	kvs, _, err := a.store.List(ctx, registry.Prefix(serviceKind, ""))
	if err != nil {
		return used, fmt.Errorf("listing services: %w", err)
	}
	for _, kv := range kvs {
		var svc api.Service
		if err := json.Unmarshal(kv.Value, &svc); err != nil {
			return used, fmt.Errorf("decoding service at %q: %w", kv.Key, err)
		}
		o := ownerOf(&svc)
		if v, ok := ipClaimValue(a.ips, svc.Spec.ClusterIP); ok {
			used[0][v] = o
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				used[1][portString(p.NodePort)] = o
			}
		}
	}
	return used, nil
}

// repairPool frees p's unused, old claims and claims used values that
// have none.
func (a *Allocator) repairPool(ctx context.Context, p *pool, claims []store.KV, used map[string]owner) (freed, adopted int, _ error) {
	now := a.now()
	claimed := make(map[string]bool, len(claims))
	var errs []error
	for _, kv := range claims {
		v := strings.TrimPrefix(kv.Key, p.prefix)
		claimed[v] = true
		if _, ok := used[v]; ok {
			continue
		}
		var c claimRecord
		if json.Unmarshal(kv.Value, &c) == nil && now.Sub(c.Time) < a.grace {
			continue // maybe a write still in flight
		}
		_, err := a.store.Delete(ctx, kv.Key, kv.ModRevision)
		switch {
		case err == nil:
			freed++
			a.log.Debug("freed a leaked claim", "kind", p.what, "value", v, "namespace", c.Namespace, "service", c.Name)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
			// Released or claimed again meanwhile.
		default:
			errs = append(errs, fmt.Errorf("freeing %s %s: %w", p.what, v, err))
		}
	}
	for v, o := range used {
		if _, inRange := p.parse(v); claimed[v] || !inRange {
			continue
		}
		_, err := a.store.Create(ctx, p.key(v), a.claimValue(o))
		switch {
		case err == nil:
			adopted++
		case errors.Is(err, store.ErrExists):
		default:
			errs = append(errs, fmt.Errorf("claiming %s %s of service %s/%s: %w", p.what, v, o.namespace, o.name, err))
		}
	}
	return freed, adopted, errors.Join(errs...)
}
