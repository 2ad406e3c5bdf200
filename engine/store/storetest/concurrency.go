package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
)

// testConcurrentCAS runs rounds in which several writers update one key at
// the same expected revision: exactly one wins each round.
func testConcurrentCAS(t *testing.T, s store.Store) {
	const (
		writers = 8
		rounds  = 10
	)
	mustCreate(t, s, "/cas", "start")
	for round := range rounds {
		kv := mustGet(t, s, "/cas")
		start := make(chan struct{})
		type result struct {
			value string
			rev   int64
			err   error
		}
		results := make(chan result, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				value := fmt.Sprintf("round %d writer %d", round, w)
				<-start
				rev, err := s.Update(ctxFor(t), "/cas", []byte(value), kv.ModRevision)
				results <- result{value, rev, err}
			})
		}
		close(start)
		wg.Wait()
		close(results)

		var winners []result
		for r := range results {
			switch {
			case r.err == nil:
				winners = append(winners, r)
			case !errors.Is(r.err, store.ErrConflict):
				t.Fatalf("round %d: losing Update failed with %v, want ErrConflict", round, r.err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1", round, len(winners))
		}
		got := wantValue(t, s, "/cas", winners[0].value)
		if got.ModRevision != winners[0].rev {
			t.Fatalf("round %d: key at revision %d, winner wrote at %d", round, got.ModRevision, winners[0].rev)
		}
	}
}

// testConcurrentIncrement has several writers increment one counter with
// read-modify-CAS loops: no increment may be lost.
func testConcurrentIncrement(t *testing.T, s store.Store) {
	const (
		writers    = 6
		increments = 10
	)
	mustCreate(t, s, "/counter", "0")
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []error
		retries  int
	)
	for range writers {
		wg.Go(func() {
			for range increments {
				for {
					kv, err := s.Get(ctxFor(t), "/counter")
					if err != nil {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						return
					}
					n, err := strconv.Atoi(string(kv.Value))
					if err != nil {
						mu.Lock()
						failures = append(failures, fmt.Errorf("counter value %q: %w", kv.Value, err))
						mu.Unlock()
						return
					}
					_, err = s.Update(ctxFor(t), "/counter", []byte(strconv.Itoa(n+1)), kv.ModRevision)
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						return
					}
					mu.Lock()
					retries++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("increments failed: %v", errors.Join(failures...))
	}
	wantValue(t, s, "/counter", strconv.Itoa(writers*increments))
	t.Logf("%d increments by %d writers took %d conflict retries", writers*increments, writers, retries)
}

// testLargeValues stores, updates, lists, watches and deletes 1 MiB values.
func testLargeValues(t *testing.T, s store.Store) {
	const size = 1 << 20
	big := func() []byte {
		b := make([]byte, size)
		rand.Read(b)
		return b
	}
	v1, v2 := big(), big()
	ctx := ctxFor(t)
	w := mustWatch(t, ctx, s, "/big/", mustRevision(t, s))

	r1, err := s.Create(ctx, "/big/k", v1)
	if err != nil {
		t.Fatalf("Create of %d bytes: %v", size, err)
	}
	if kv := mustGet(t, s, "/big/k"); !bytes.Equal(kv.Value, v1) {
		t.Fatalf("Get returned %s", valueOf(kv.Value))
	}
	r2, err := s.Update(ctx, "/big/k", v2, r1)
	if err != nil {
		t.Fatalf("Update of %d bytes: %v", size, err)
	}
	kvs, _, err := s.List(ctx, "/big/")
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 1 || !bytes.Equal(kvs[0].Value, v2) {
		t.Fatalf("List returned %d values", len(kvs))
	}
	del, err := s.Delete(ctx, "/big/k", r2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(del.Value, v2) {
		t.Fatalf("Delete returned %s", valueOf(del.Value))
	}

	ev := next(t, w)
	if ev.Type != store.EventCreated || !bytes.Equal(ev.KV.Value, v1) {
		t.Fatalf("first event %s %s", ev.Type, valueOf(ev.KV.Value))
	}
	ev = next(t, w)
	if ev.Type != store.EventUpdated || !bytes.Equal(ev.KV.Value, v2) || !bytes.Equal(ev.PrevValue, v1) {
		t.Fatalf("second event %s %s prev %s", ev.Type, valueOf(ev.KV.Value), valueOf(ev.PrevValue))
	}
	ev = next(t, w)
	if ev.Type != store.EventDeleted || !bytes.Equal(ev.KV.Value, v2) {
		t.Fatalf("third event %s %s", ev.Type, valueOf(ev.KV.Value))
	}
}
