package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A leader's lease, proven locally
//
// etcd expires a lease TTL after the last renewal it applied, on its own
// clock. The holder cannot see that moment, but it can bound it from
// below: a renewal etcd confirmed was applied after the holder sent it, so
// the lease lives at least until (time the renewal was sent + TTL). The
// lease keeper renews every TTL/3 and, if no renewal was confirmed, declares
// the lease lost at that bound minus a margin (for timer and scheduling
// delays), strictly before etcd can expire it and let another campaign
// win. Renewals use KeepAliveOnce, one request and its answer, so no
// renewal happens that the keeper does not know about.

// errLeaseLost is the cause of a term's end when its lease could not be proven.
var errLeaseLost = errors.New("could not renew the leader lease in time")

// leaseMargin is how long before the proven end of the lease the keeper
// gives up: a fifth of the TTL, at least 300 ms.
func leaseMargin(ttl time.Duration) time.Duration { return max(ttl/5, 300*time.Millisecond) }

// lease is a granted etcd lease and the local bound of its validity.
type lease struct {
	client *clientv3.Client
	id     clientv3.LeaseID
	ttl    time.Duration
	margin time.Duration
	log    *slog.Logger

	mu sync.Mutex
	// validUntil: the lease is proven alive until then (margin included).
	validUntil time.Time
}

// grantLease asks etcd for a lease of ttl (etcd may grant more).
func grantLease(ctx context.Context, client *clientv3.Client, ttl time.Duration, log *slog.Logger) (*lease, error) {
	gctx, cancel := context.WithTimeout(ctx, ttl)
	defer cancel()
	sent := time.Now()
	resp, err := client.Grant(gctx, int64(max(ttl.Round(time.Second)/time.Second, 1)))
	if err != nil {
		return nil, fmt.Errorf("granting a lease: %w", err)
	}
	granted := time.Duration(resp.TTL) * time.Second
	l := &lease{client: client, id: resp.ID, ttl: granted, margin: leaseMargin(granted), log: log}
	l.validUntil = sent.Add(granted - l.margin)
	return l, nil
}

// keep renews the lease until ctx ends, and calls lost (once) when the
// lease can no longer be proven: at validUntil without a confirmed
// renewal, or when etcd says the lease is gone. It returns when either
// happens.
func (l *lease) keep(ctx context.Context, lost context.CancelCauseFunc) {
	l.mu.Lock()
	expiry := time.AfterFunc(time.Until(l.validUntil), func() { lost(errLeaseLost) })
	l.mu.Unlock()
	defer expiry.Stop()
	interval := l.ttl / 3
	retry := max(l.ttl/20, 100*time.Millisecond)
	next := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
		sent := time.Now()
		l.mu.Lock()
		until := l.validUntil
		l.mu.Unlock()
		// Waiting beyond the proven end is pointless: the lease is lost then.
		rctx, cancel := context.WithDeadline(ctx, until)
		resp, err := l.client.KeepAliveOnce(rctx, l.id)
		cancel()
		switch {
		case err == nil && resp.TTL > 0:
			l.mu.Lock()
			l.validUntil = sent.Add(time.Duration(resp.TTL)*time.Second - l.margin)
			if !expiry.Stop() {
				l.mu.Unlock()
				return // the lease was declared lost meanwhile; a term never resumes
			}
			expiry.Reset(time.Until(l.validUntil))
			l.mu.Unlock()
			next = interval
		case errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && resp.TTL <= 0):
			lost(fmt.Errorf("%w: etcd says lease %x is gone", errLeaseLost, l.id))
			return
		default:
			if ctx.Err() != nil {
				return
			}
			l.log.Debug("renewing the leader lease failed; retrying", "err", err)
			next = retry
		}
	}
}

// revoke gives the lease up (deleting the keys bound to it), bounded in
// time: when etcd cannot be reached the lease simply expires.
func (l *lease) revoke(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := l.client.Revoke(rctx, l.id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		l.log.Debug("revoking the leader lease failed; it will expire", "err", err)
	}
}
