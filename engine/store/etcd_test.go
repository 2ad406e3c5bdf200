package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
	"github.com/maestro-dev/maestro/engine/store/storetest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// startEmbedded starts an embedded member for one test, closed at its end.
func startEmbedded(t testing.TB) *store.Embedded {
	t.Helper()
	m, err := store.StartEmbedded(t.Context(), store.EmbeddedConfig{Dir: t.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("closing embedded etcd: %v", err)
		}
	})
	return m
}

// storeFactory returns a newStore for storetest.Run giving each subtest its
// own prefix on client, wrapped by wrap when it is not nil.
func storeFactory(client *clientv3.Client, base string, wrap func(*testing.T, store.Store) store.Store) func(*testing.T) store.Store {
	var n atomic.Int64
	return func(t *testing.T) store.Store {
		var s store.Store = store.NewEtcd(client, fmt.Sprintf("%s/%d", base, n.Add(1)))
		if wrap != nil {
			s = wrap(t, s)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestEtcdEmbeddedConformance(t *testing.T) {
	m := startEmbedded(t)
	storetest.Run(t, storeFactory(m.Client(), "/conformance", nil))
}

func TestEtcdExternalConformance(t *testing.T) {
	client := startExternalEtcd(t)
	storetest.Run(t, storeFactory(client, "/conformance", nil))
	t.Run("WatchFailsSynchronously", func(t *testing.T) { checkWatchFailsSynchronously(t, client) })
}

func TestEncryptingConformance(t *testing.T) {
	m := startEmbedded(t)
	ring, err := keyring.NewKeyring(keyring.Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, keyring.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storeFactory(m.Client(), "/encrypted", func(t *testing.T, inner store.Store) store.Store {
		s, err := store.NewEncrypting(inner, ring, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}))
}

// TestEtcdKeyLayout checks where keys land in etcd, and that stores whose
// prefixes share a beginning do not see each other's keys.
func TestEtcdKeyLayout(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	a := store.NewEtcd(m.Client(), "/maestro/") // trailing slash ignored
	b := store.NewEtcd(m.Client(), "/maestro2")
	if a.Prefix() != "/maestro" {
		t.Fatalf("Prefix() = %q", a.Prefix())
	}
	if _, err := a.Create(ctx, "/pods/x", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, "/pods/x", []byte("b")); err != nil {
		t.Fatal(err)
	}
	raw, err := m.Client().Get(ctx, "/maestro/pods/x")
	if err != nil || len(raw.Kvs) != 1 || string(raw.Kvs[0].Value) != "a" {
		t.Fatalf("raw etcd key /maestro/pods/x: %v %v", raw, err)
	}
	for _, s := range []*store.Etcd{a, b} {
		kvs, _, err := s.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) != 1 || kvs[0].Key != "/pods/x" {
			t.Fatalf("store %s lists %v", s.Prefix(), kvs)
		}
	}
}

// TestEtcdListPaging lists with tiny pages while writers add keys: every
// page is read at the first page's revision, so the result is exactly the
// keys created at or before it.
func TestEtcdListPaging(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	s := store.NewEtcd(m.Client(), "/paging")
	var (
		mu      sync.Mutex
		created = map[string]int64{}
	)
	create := func(key string) {
		rev, err := s.Create(ctx, key, []byte(key))
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		created[key] = rev
		mu.Unlock()
	}
	for i := range 40 {
		create(fmt.Sprintf("/p/%03d", i))
	}

	for _, pageSize := range []int64{1, 3, 7, 40, 1000} {
		t.Run(fmt.Sprintf("page=%d", pageSize), func(t *testing.T) {
			store.SetPageSize(s, pageSize)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					create(fmt.Sprintf("/p/%d-%03d", pageSize, i))
				}
			})
			kvs, rev, err := s.List(ctx, "/p/")
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			mu.Lock()
			for k, r := range created {
				if r <= rev {
					want = append(want, k)
				}
			}
			mu.Unlock()
			slices.Sort(want)
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("List at revision %d returned %d keys, want %d:\n got %q\nwant %q", rev, len(got), len(want), got, want)
			}
		})
	}
}

// TestEtcdWatchFailsSynchronously checks that the Etcd store reports a
// compacted or future start revision from Watch itself, which the contract
// only recommends.
func TestEtcdWatchFailsSynchronously(t *testing.T) {
	checkWatchFailsSynchronously(t, startEmbedded(t).Client())
}

func checkWatchFailsSynchronously(t *testing.T, client *clientv3.Client) {
	ctx := t.Context()
	s := store.NewEtcd(client, "/sync")
	r1, _ := s.Create(ctx, "/k", []byte("1"))
	r2, _ := s.Update(ctx, "/k", []byte("2"), r1)
	r3, err := s.Update(ctx, "/k", []byte("3"), r2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, r3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Watch(ctx, "/", r3-2); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from a compacted revision: %v, want ErrCompacted", err)
	}
	if _, err := s.Watch(ctx, "/", r3+100); !errors.Is(err, store.ErrFuture) {
		t.Fatalf("Watch from a future revision: %v, want ErrFuture", err)
	}
}

// TestEtcdClose checks that Close ends the store's watches and refuses
// further calls, without closing the client.
func TestEtcdClose(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	s := store.NewEtcd(m.Client(), "/closing")
	rev, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "/", rev)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-w.Events():
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch still open after Close")
	}
	if err := w.Err(); err != nil {
		t.Fatalf("Err after Close = %v, want nil", err)
	}
	if _, err := s.Get(ctx, "/k"); err == nil {
		t.Fatal("Get after Close succeeded")
	}
	if _, err := m.Client().Get(ctx, "/"); err != nil {
		t.Fatalf("client unusable after the store's Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestEtcdErrorsNameTheKey checks the context carried by errors.
func TestEtcdErrorsNameTheKey(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	s := store.NewEtcd(m.Client(), "/errs")
	rev, _ := s.Create(ctx, "/pods/web", []byte("x"))
	_, err := s.Update(ctx, "/pods/web", []byte("y"), rev+5)
	if !errors.Is(err, store.ErrConflict) || !bytes.Contains([]byte(err.Error()), []byte(`"/pods/web"`)) {
		t.Fatalf("conflict error %q", err)
	}
	_, err = s.Delete(ctx, "/pods/none", 0)
	if !errors.Is(err, store.ErrNotFound) || !bytes.Contains([]byte(err.Error()), []byte(`"/pods/none"`)) {
		t.Fatalf("not-found error %q", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = s.Get(cctx, "/pods/web"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get: %v", err)
	}
}
