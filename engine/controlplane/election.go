package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/maestro-dev/maestro/engine/api"
)

// DefaultLeaseTTL is how long a dead leader holds leadership: a standby
// takes over within about this long after the leader stops renewing.
const DefaultLeaseTTL = 5 * time.Second

// electionName is the election of the scheduler and controllers, under the
// cluster's etcd prefix. Candidates put "<electionName>/<lease id in hex>"
// bound to their lease; the key created first leads (the layout of etcd's
// concurrency.Election, so servers of older versions take part in the
// same election).
const electionName = "/leader/controllers"

// One leader at a time
//
// A term starts when the candidate's key is the oldest under the election
// prefix and its lease is proven alive (lease.go), and ends, before etcd
// can expire the lease, when the lease can no longer be proven. A leader
// paused past that point (a stopped process, a long GC pause) may still
// send a write before it notices; so every write of its components carries
// the term's fence (the key and its create revision, api.LeaderFence) and
// the API server commits it only while that key still exists as created.

// elector campaigns for one election and runs terms while it wins.
type elector struct {
	client   *clientv3.Client
	prefix   string // the cluster's etcd prefix, without a trailing "/"
	identity string
	ttl      time.Duration
	log      *slog.Logger
	// leading is set for the length of each term.
	leading func(bool)
}

// lead campaigns for leadership of the scheduler and controllers and runs
// them while this server leads. Servers that do not lead only serve the API.
func (cp *ControlPlane) lead(ctx context.Context, run func(ctx context.Context, fence api.LeaderFence)) {
	ttl := cp.cfg.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	host, _ := os.Hostname()
	identity := fmt.Sprintf("%s/%s", host, cp.Addr())
	e := &elector{client: cp.etcdClient, prefix: strings.TrimRight(cp.cfg.EtcdPrefix, "/"), identity: identity, ttl: ttl,
		log: cp.cfg.Log.With("component", "leader-election", "identity", identity), leading: cp.leading.Store}
	e.run(ctx, run)
}

// run campaigns again after every term, until ctx ends.
func (e *elector) run(ctx context.Context, act func(ctx context.Context, fence api.LeaderFence)) {
	for ctx.Err() == nil {
		if err := e.term(ctx, act); err != nil && ctx.Err() == nil {
			e.log.Warn("leader election failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// term takes a lease, campaigns, and, if it wins, runs act until the lease
// cannot be proven or ctx ends; then it gives the lease up, so a successor
// starts only after act has returned (or after the lease expired).
func (e *elector) term(ctx context.Context, act func(ctx context.Context, fence api.LeaderFence)) error {
	l, err := grantLease(ctx, e.client, e.ttl, e.log)
	if err != nil {
		return err
	}
	defer l.revoke(ctx)
	tctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	kept := make(chan struct{})
	go func() { defer close(kept); l.keep(tctx, lost) }()
	defer func() { <-kept }()
	defer lost(nil) // stop the keeper before waiting for it

	fence, err := e.campaign(tctx, l)
	if err != nil {
		if tctx.Err() != nil {
			if cause := context.Cause(tctx); ctx.Err() == nil && errors.Is(cause, errLeaseLost) {
				return fmt.Errorf("campaigning: %w", cause)
			}
			return nil
		}
		return fmt.Errorf("campaigning: %w", err)
	}
	e.log.Info("acquired leadership: running scheduler and controllers", "fence", fence.String())
	e.leading(true)
	act(tctx, fence)
	e.leading(false)
	if cause := context.Cause(tctx); ctx.Err() == nil && cause != nil {
		e.log.Warn("lost leadership: stopped scheduler and controllers", "cause", cause)
	}
	e.log.Info("stepped down", "fence", fence.String())
	return nil
}

// campaign puts the candidate's key (bound to its lease) and waits until no
// older key is left. It returns the term's fence once the key is, in one
// read, still the one it created and the oldest.
func (e *elector) campaign(ctx context.Context, l *lease) (api.LeaderFence, error) {
	name := fmt.Sprintf("%s/%x", electionName, int64(l.id))
	key := e.prefix + name
	resp, err := e.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, e.identity, clientv3.WithLease(l.id))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return api.LeaderFence{}, fmt.Errorf("putting the candidate key: %w", err)
	}
	created := resp.Header.Revision
	if !resp.Succeeded {
		created = resp.Responses[0].GetResponseRange().Kvs[0].CreateRevision
	}
	prefix := e.prefix + electionName + "/"
	for {
		// One read: is the key still ours, and is any older key left?
		resp, err := e.client.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", created)).
			Then(clientv3.OpGet(prefix, append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(created-1))...)).
			Commit()
		if err != nil {
			return api.LeaderFence{}, fmt.Errorf("reading the election: %w", err)
		}
		if !resp.Succeeded {
			return api.LeaderFence{}, errors.New("the candidate key is gone (its lease expired)")
		}
		older := resp.Responses[0].GetResponseRange().Kvs
		if len(older) == 0 {
			return api.LeaderFence{Key: name, Revision: created}, nil
		}
		if err := waitDelete(ctx, e.client, string(older[0].Key), resp.Header.Revision); err != nil {
			return api.LeaderFence{}, err
		}
	}
}

// waitDelete waits until key is deleted after revision rev.
func waitDelete(ctx context.Context, client *clientv3.Client, key string, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for resp := range client.Watch(wctx, key, clientv3.WithRev(rev+1)) {
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watching %s: %w", key, err)
		}
		for _, ev := range resp.Events {
			if ev.Type == mvccpb.DELETE {
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("watching %s: the watch ended", key)
}

// Leading reports whether this server currently runs the scheduler and controllers.
func (cp *ControlPlane) Leading() bool { return cp.leading.Load() }
