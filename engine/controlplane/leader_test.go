package controlplane_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestNoLeaderOverlap runs two servers on one external etcd whose leaders
// write every 5 ms, pauses etcd (SIGSTOP) for longer than the lease TTL and
// resumes it. The leaders' terms (from the start of the Leader hook to the
// end of its context) must never overlap, and a deposed leader whose
// components go on writing (the "zombie" writes a slow component sends
// after its context ended) must have every write that comes after its
// term refused by the leader fence: none may land in etcd outside the
// lifetime of the election key it was made under.
func TestNoLeaderOverlap(t *testing.T) {
	etcd := testenv.StartEtcdProcess(t, nil)
	ttl := 2 * time.Second
	raw, err := store.DialExternal(t.Context(), store.ExternalConfig{Endpoints: []string{etcd.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rec := &leaderRecorder{t: t, etcd: raw, done: make(chan struct{})}
	keyFile := filepath.Join(t.TempDir(), "key")
	var cps []*controlplane.ControlPlane
	var closeOnce sync.Once
	stopAll := func() {
		closeOnce.Do(func() {
			for _, cp := range cps {
				cp.Close()
			}
		})
	}
	defer stopAll()
	for _, name := range []string{"a", "b"} {
		cps = append(cps, start(t, controlplane.Config{DataDir: t.TempDir(), EtcdEndpoints: []string{etcd.URL},
			EncryptionKeyFile: keyFile, LeaseTTL: ttl, Leader: rec.hook(name)}))
	}
	ctx := t.Context()
	probe := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "leader-probe"}}
	if _, err := clientFor(t, cps[0]).ConfigMaps("default").Create(ctx, probe); err != nil && !api.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	first := rec.waitForTerm(t, time.Time{}, 20, 30*time.Second)
	t.Logf("term %d (server %s) is writing; pausing etcd", first.id, first.server)
	etcd.Pause()
	time.Sleep(2*ttl + time.Second)
	etcd.Resume()
	resumed := time.Now()
	next := rec.waitForTerm(t, resumed, 20, 30*time.Second)
	t.Logf("term %d (server %s) is writing after etcd resumed", next.id, next.server)
	time.Sleep(ttl) // zombies of earlier terms go on writing meanwhile
	close(rec.done)
	stopAll() // the hooks have returned once the servers are closed
	rec.zombies.Wait()

	terms := rec.snapshot()
	checkTermsDisjoint(t, terms)
	host, _ := os.Hostname()
	identity := map[string]string{"a": host + "/" + cps[0].Addr(), "b": host + "/" + cps[1].Addr()}
	for _, tm := range terms {
		if tm.holder != identity[tm.server] {
			t.Errorf("term %d started on server %s (%s) while the oldest election key %q was held by %q",
				tm.id, tm.server, identity[tm.server], tm.key, tm.holder)
		}
	}
	lifetimes := leaderKeyLifetimes(t, raw)
	landed := probeWrites(t, raw)
	fenced, other := 0, 0
	for _, tm := range terms {
		life, ok := lifetimes[tm.key]
		if !ok {
			t.Errorf("term %d: election key %q never seen in etcd's history", tm.id, tm.key)
			continue
		}
		for _, rev := range landed[tm.id] {
			if rev <= life.created || (life.deleted != 0 && rev >= life.deleted) {
				t.Errorf("term %d (server %s): a write landed at revision %d, outside its election key's lifetime (%d, %d)",
					tm.id, tm.server, rev, life.created, life.deleted)
			}
		}
		for _, w := range tm.writes {
			successor := successorStart(terms, tm)
			if successor.IsZero() || w.sent.Before(successor) {
				continue
			}
			if w.err == nil {
				t.Errorf("term %d (server %s): a write sent %s after the next term started succeeded",
					tm.id, tm.server, w.sent.Sub(successor).Round(time.Millisecond))
			} else if api.ReasonOf(w.err) == "LeaderFenced" {
				fenced++
			} else {
				// Timed out in a server still catching up with etcd: not
				// landed either, which is what matters.
				other++
			}
		}
	}
	if fenced == 0 {
		t.Error("no write of a deposed leader was refused by the leader fence")
	}
	t.Logf("%d terms; writes of deposed leaders after the next term started: %d refused by the fence, %d failed otherwise",
		len(terms), fenced, other)
}

// leaderRecorder records each leader term and every write made in it.
type leaderRecorder struct {
	t       *testing.T
	etcd    *clientv3.Client
	done    chan struct{}
	zombies sync.WaitGroup

	mu    sync.Mutex
	terms []*term
}

type term struct {
	id          int
	server      string
	key         string // the election key that was oldest when the term started
	holder      string // and its value: the identity of the server holding it
	start, stop time.Time
	writes      []probeWrite
}

type probeWrite struct {
	sent time.Time
	err  error
}

// hook is a Leader that writes every 5 ms until its context ends, then
// keeps writing, through the same client, until the test ends.
func (r *leaderRecorder) hook(server string) func(ctx context.Context, c *client.Client) {
	return func(ctx context.Context, c *client.Client) {
		tm := &term{server: server, start: time.Now()}
		tm.key, tm.holder = r.leaderKey()
		r.mu.Lock()
		tm.id = len(r.terms) + 1
		r.terms = append(r.terms, tm)
		r.mu.Unlock()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-ctx.Done():
				r.mu.Lock()
				tm.stop = time.Now()
				r.mu.Unlock()
				r.zombies.Add(1)
				go r.zombie(tm, c, seq)
				return
			case <-tick.C:
			}
			r.write(ctx, tm, c, seq)
		}
	}
}

// zombie is a component that ignores the end of its term.
func (r *leaderRecorder) zombie(tm *term, c *client.Client, seq int) {
	defer r.zombies.Done()
	for ; ; seq++ {
		select {
		case <-r.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		r.write(ctx, tm, c, seq)
		cancel()
	}
}

func (r *leaderRecorder) write(ctx context.Context, tm *term, c *client.Client, seq int) {
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "leader-probe"},
		Data: map[string]string{"term": fmt.Sprint(tm.id), "key": tm.key, "seq": fmt.Sprint(seq)}}
	sent := time.Now()
	_, err := c.ConfigMaps("default").Update(ctx, cm)
	if ctx.Err() != nil && err != nil {
		return // abandoned by its own context, not answered
	}
	r.mu.Lock()
	tm.writes = append(tm.writes, probeWrite{sent: sent, err: err})
	r.mu.Unlock()
}

// leaderKey reads the oldest election key (relative to the store prefix)
// and its value.
func (r *leaderRecorder) leaderKey() (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := r.etcd.Get(ctx, electionPrefix, clientv3.WithFirstCreate()...)
	if err != nil {
		r.t.Errorf("reading the election at the start of a term: %v", err)
		return "", ""
	}
	if len(resp.Kvs) == 0 {
		return "", ""
	}
	return strings.TrimPrefix(string(resp.Kvs[0].Key), controlplane.DefaultEtcdPrefix), string(resp.Kvs[0].Value)
}

// waitForTerm waits for a term started after since that has made n
// successful writes.
func (r *leaderRecorder) waitForTerm(t *testing.T, since time.Time, n int, within time.Duration) term {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, tm := range r.snapshot() {
			ok := 0
			for _, w := range tm.writes {
				if w.err == nil {
					ok++
				}
			}
			if tm.start.After(since) && tm.stop.IsZero() && ok >= n {
				return tm
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no leader term started after %s made %d writes within %s: %+v", since.Format(time.StampMilli), n, within, r.snapshot())
	return term{}
}

func (r *leaderRecorder) snapshot() []term {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]term, len(r.terms))
	for i, tm := range r.terms {
		out[i] = *tm
		out[i].writes = slices.Clone(tm.writes)
	}
	return out
}

const electionPrefix = controlplane.DefaultEtcdPrefix + "/leader/controllers/"

// checkTermsDisjoint: each term ends before the next one starts.
func checkTermsDisjoint(t *testing.T, terms []term) {
	t.Helper()
	sorted := slices.Clone(terms)
	slices.SortFunc(sorted, func(a, b term) int { return a.start.Compare(b.start) })
	for i := 1; i < len(sorted); i++ {
		prev, cur := sorted[i-1], sorted[i]
		if prev.stop.IsZero() || !prev.stop.Before(cur.start) {
			t.Errorf("term %d (server %s, %s..%s) overlaps term %d (server %s, from %s)",
				prev.id, prev.server, prev.start.Format(time.StampMilli), prev.stop.Format(time.StampMilli),
				cur.id, cur.server, cur.start.Format(time.StampMilli))
		}
	}
}

// successorStart is when the first term after tm started (zero if none).
func successorStart(terms []term, tm term) time.Time {
	var next time.Time
	for _, o := range terms {
		if o.start.After(tm.start) && (next.IsZero() || o.start.Before(next)) {
			next = o.start
		}
	}
	return next
}

type keyLife struct{ created, deleted int64 }

// leaderKeyLifetimes reads etcd's history of the election keys.
func leaderKeyLifetimes(t *testing.T, raw *clientv3.Client) map[string]keyLife {
	t.Helper()
	out := map[string]keyLife{}
	for _, ev := range history(t, raw, electionPrefix) {
		key := strings.TrimPrefix(string(ev.Kv.Key), controlplane.DefaultEtcdPrefix)
		life := out[key]
		if ev.Type == mvccpb.DELETE {
			life.deleted = ev.Kv.ModRevision
		} else if ev.IsCreate() {
			life.created = ev.Kv.CreateRevision
		}
		out[key] = life
	}
	return out
}

// probeWrites reads etcd's history of the probe config map: the revisions
// at which each term's writes landed.
func probeWrites(t *testing.T, raw *clientv3.Client) map[int][]int64 {
	t.Helper()
	out := map[int][]int64{}
	for _, ev := range history(t, raw, controlplane.DefaultEtcdPrefix+"/configmaps/default/leader-probe") {
		var cm api.ConfigMap
		if ev.Type != mvccpb.PUT || json.Unmarshal(ev.Kv.Value, &cm) != nil || cm.Data["term"] == "" {
			continue
		}
		var id int
		fmt.Sscan(cm.Data["term"], &id)
		out[id] = append(out[id], ev.Kv.ModRevision)
	}
	return out
}

// history returns every event under prefix since etcd started, up to a
// marker it writes (call it once the servers have stopped).
func history(t *testing.T, raw *clientv3.Client, prefix string) []*clientv3.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	marker := prefix + "\xff-end-of-history"
	put, err := raw.Put(ctx, marker, "")
	if err != nil {
		t.Fatal(err)
	}
	var events []*clientv3.Event
	for resp := range raw.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(1)) {
		if err := resp.Err(); err != nil {
			t.Fatalf("reading etcd history: %v", err)
		}
		for _, ev := range resp.Events {
			if ev.Kv.ModRevision >= put.Header.Revision {
				return events
			}
			events = append(events, ev)
		}
	}
	t.Fatalf("reading etcd history: the watch ended: %v", ctx.Err())
	return nil
}
