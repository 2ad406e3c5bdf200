package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultLeaseTTL is how long a dead leader holds leadership: a standby
// takes over within about this long after the leader stops renewing.
const DefaultLeaseTTL = 5 * time.Second

// lead campaigns for leadership of the scheduler and controllers through
// etcd and runs them while this server leads. Servers that do not lead only
// serve the API. Losing the etcd session (a partition, a long pause) stops
// the components at once, so two leaders never act together for longer than
// the session's detection time.
func (cp *ControlPlane) lead(ctx context.Context, run func(ctx context.Context)) {
	ttl := cp.cfg.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	key := cp.cfg.EtcdPrefix + "/leader/controllers"
	host, _ := os.Hostname()
	identity := fmt.Sprintf("%s/%s", host, cp.Addr())
	log := cp.cfg.Log.With("component", "leader-election", "identity", identity)
	for ctx.Err() == nil {
		err := cp.leadOnce(ctx, key, identity, int(ttl.Round(time.Second)/time.Second), run)
		if err != nil && ctx.Err() == nil {
			log.Warn("leader election failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (cp *ControlPlane) leadOnce(ctx context.Context, key, identity string, ttlSeconds int, run func(ctx context.Context)) error {
	log := cp.cfg.Log.With("component", "leader-election", "identity", identity)
	session, err := concurrency.NewSession(cp.etcdClient, concurrency.WithTTL(max(ttlSeconds, 1)), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("opening etcd session: %w", err)
	}
	defer session.Close()
	election := concurrency.NewElection(session, key)
	if err := election.Campaign(ctx, identity); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return fmt.Errorf("campaigning: %w", err)
	}
	log.Info("acquired leadership: running scheduler and controllers")
	cp.leading.Store(true)
	leadCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-session.Done():
			log.Warn("lost the etcd session: stopping scheduler and controllers")
		case <-leadCtx.Done():
		}
		cancel()
	}()
	run(leadCtx)
	cancel()
	cp.leading.Store(false)
	resignCtx, rc := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer rc()
	_ = election.Resign(resignCtx)
	log.Info("stepped down")
	return nil
}

// Leading reports whether this server currently runs the scheduler and controllers.
func (cp *ControlPlane) Leading() bool { return cp.leading.Load() }
