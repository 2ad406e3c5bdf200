// Package storetest is the conformance suite of store.Store: every
// implementation (and every decorator) runs it.
//
// The suite relies on the key conventions of package store: keys start with
// "/", and List and Watch take a plain byte prefix, so that a caller meaning
// "the children of /pods/a" passes "/pods/a/" (which does not match
// "/pods/ab/x", while "/pods/a" would).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

// Run runs the whole suite. newStore returns an empty store for one subtest,
// isolated from the stores of other subtests (for example under its own
// prefix), and arranges with t.Cleanup for it to be closed. Run does not run
// subtests in parallel: Compact is allowed to affect every store sharing one
// backend.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, newStore(t)) })
	t.Run("CreatePreconditions", func(t *testing.T) { testCreatePreconditions(t, newStore(t)) })
	t.Run("WritePreconditions", func(t *testing.T) { testWritePreconditions(t, newStore) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, newStore) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newStore(t)) })
	t.Run("ListPrefix", func(t *testing.T) { testListPrefix(t, newStore(t)) })
	t.Run("ListOrderAndRevision", func(t *testing.T) { testListOrder(t, newStore(t)) })
	t.Run("CurrentRevisionMonotonic", func(t *testing.T) { testRevisionMonotonic(t, newStore(t)) })
	t.Run("ContextCancelled", func(t *testing.T) { testContextCancelled(t, newStore(t)) })
	t.Run("WatchEvents", func(t *testing.T) { testWatchEvents(t, newStore) })
	t.Run("WatchPrefixIsolation", func(t *testing.T) { testWatchPrefix(t, newStore(t)) })
	t.Run("WatchResume", func(t *testing.T) { testWatchResume(t, newStore(t)) })
	t.Run("WatchCompacted", func(t *testing.T) { testWatchCompacted(t, newStore(t)) })
	t.Run("WatchFuture", func(t *testing.T) { testWatchFuture(t, newStore(t)) })
	t.Run("WatchStop", func(t *testing.T) { testWatchStop(t, newStore) })
	t.Run("WatchNoLeak", func(t *testing.T) { testWatchNoLeak(t, newStore(t)) })
	t.Run("ConcurrentCAS", func(t *testing.T) { testConcurrentCAS(t, newStore(t)) })
	t.Run("ConcurrentIncrement", func(t *testing.T) { testConcurrentIncrement(t, newStore(t)) })
	t.Run("LargeValues", func(t *testing.T) { testLargeValues(t, newStore(t)) })
}

// ctxFor returns a context that ends with the test, bounded so that a hung
// store fails the test instead of the whole run.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s store.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(ctxFor(t), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rev
}

func mustUpdate(t *testing.T, s store.Store, key, value string, expected int64) int64 {
	t.Helper()
	rev, err := s.Update(ctxFor(t), key, []byte(value), expected)
	if err != nil {
		t.Fatalf("Update(%q, rev %d): %v", key, expected, err)
	}
	return rev
}

func mustGet(t *testing.T, s store.Store, key string) store.KV {
	t.Helper()
	kv, err := s.Get(ctxFor(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func mustRevision(t *testing.T, s store.Store) int64 {
	t.Helper()
	rev, err := s.CurrentRevision(ctxFor(t))
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	return rev
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func wantValue(t *testing.T, s store.Store, key, value string) store.KV {
	t.Helper()
	kv := mustGet(t, s, key)
	if string(kv.Value) != value {
		t.Fatalf("Get(%q) = %q, want %q", key, kv.Value, value)
	}
	return kv
}

func testCreateGet(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	before := mustRevision(t, s)
	rev := mustCreate(t, s, "/things/a", "one")
	if rev <= before {
		t.Fatalf("Create revision %d, want > %d", rev, before)
	}
	kv := wantValue(t, s, "/things/a", "one")
	if kv.Key != "/things/a" || kv.CreateRevision != rev || kv.ModRevision != rev {
		t.Fatalf("Get = %+v, want key /things/a and both revisions %d", kv, rev)
	}

	_, err := s.Create(ctx, "/things/a", []byte("two"))
	wantErr(t, "Create of an existing key", err, store.ErrExists)
	if kv := wantValue(t, s, "/things/a", "one"); kv.ModRevision != rev {
		t.Fatalf("failed Create moved ModRevision to %d", kv.ModRevision)
	}

	_, err = s.Get(ctx, "/things/missing")
	wantErr(t, "Get of a missing key", err, store.ErrNotFound)

	// Empty values are values.
	mustCreate(t, s, "/things/empty", "")
	if kv := mustGet(t, s, "/things/empty"); len(kv.Value) != 0 {
		t.Fatalf("empty value read back as %q", kv.Value)
	}
	// Binary values survive untouched.
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\n', 0}
	if _, err := s.Create(ctx, "/things/binary", bin); err != nil {
		t.Fatal(err)
	}
	if kv := mustGet(t, s, "/things/binary"); !bytes.Equal(kv.Value, bin) {
		t.Fatalf("binary value read back as %x", kv.Value)
	}
}

func testCreatePreconditions(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	parentRev := mustCreate(t, s, "/ns/a", "namespace")
	for _, tc := range []struct {
		name string
		pre  store.Precondition
		want error
	}{
		{"parent unchanged", store.Precondition{Key: "/ns/a", ModRevision: parentRev}, nil},
		{"parent at another revision", store.Precondition{Key: "/ns/a", ModRevision: parentRev + 100}, store.ErrPrecondition},
		{"parent missing", store.Precondition{Key: "/ns/b", ModRevision: parentRev}, store.ErrPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "/objs/" + strings.ReplaceAll(tc.name, " ", "-")
			_, err := s.Create(ctx, key, []byte("x"), tc.pre)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				wantValue(t, s, key, "x")
				return
			}
			wantErr(t, "Create with a failed precondition", err, tc.want)
			if _, err := s.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("failed Create stored the key: %v", err)
			}
		})
	}
	// An existing key is ErrExists even with preconditions that hold.
	_, err := s.Create(ctx, "/objs/parent-unchanged", []byte("y"), store.Precondition{Key: "/ns/a", ModRevision: parentRev})
	wantErr(t, "Create of an existing key with a precondition", err, store.ErrExists)
	// A change to the parent breaks the precondition.
	newRev, err := s.Update(ctx, "/ns/a", []byte("terminating"), parentRev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx, "/objs/late", []byte("x"), store.Precondition{Key: "/ns/a", ModRevision: parentRev})
	wantErr(t, "Create after the parent changed", err, store.ErrPrecondition)
	if _, err := s.Create(ctx, "/objs/late", []byte("x"), store.Precondition{Key: "/ns/a", ModRevision: newRev}); err != nil {
		t.Fatalf("Create with the parent's new revision: %v", err)
	}
}

// testWritePreconditions: Update and Delete commit only while every
// precondition holds, comparing ModRevision or, when given, CreateRevision
// (a key deleted and created again is another key); a failure names the
// precondition and leaves the key as it was.
func testWritePreconditions(t *testing.T, newStore func(*testing.T) store.Store) {
	type write func(s store.Store, rev int64, pre store.Precondition) error
	writes := map[string]write{
		"Update": func(s store.Store, rev int64, pre store.Precondition) error {
			_, err := s.Update(ctxFor(t), "/k", []byte("v2"), rev, pre)
			return err
		},
		"Delete": func(s store.Store, rev int64, pre store.Precondition) error {
			_, err := s.Delete(ctxFor(t), "/k", rev, pre)
			return err
		},
		"Create": func(s store.Store, _ int64, pre store.Precondition) error {
			_, err := s.Create(ctxFor(t), "/new", []byte("v"), pre)
			return err
		},
	}
	tests := []struct {
		name string
		// fence prepares the key /fence and returns the precondition on it.
		fence func(t *testing.T, s store.Store) store.Precondition
		ok    bool
	}{
		{"mod revision holds", func(t *testing.T, s store.Store) store.Precondition {
			return store.Precondition{Key: "/fence", ModRevision: mustCreate(t, s, "/fence", "a")}
		}, true},
		{"mod revision moved", func(t *testing.T, s store.Store) store.Precondition {
			rev := mustCreate(t, s, "/fence", "a")
			mustUpdate(t, s, "/fence", "b", rev)
			return store.Precondition{Key: "/fence", ModRevision: rev}
		}, false},
		{"create revision holds after updates", func(t *testing.T, s store.Store) store.Precondition {
			rev := mustCreate(t, s, "/fence", "a")
			mustUpdate(t, s, "/fence", "b", rev)
			return store.Precondition{Key: "/fence", CreateRevision: rev}
		}, true},
		{"key deleted", func(t *testing.T, s store.Store) store.Precondition {
			rev := mustCreate(t, s, "/fence", "a")
			if _, err := s.Delete(ctxFor(t), "/fence", 0); err != nil {
				t.Fatal(err)
			}
			return store.Precondition{Key: "/fence", CreateRevision: rev}
		}, false},
		{"key created again", func(t *testing.T, s store.Store) store.Precondition {
			rev := mustCreate(t, s, "/fence", "a")
			if _, err := s.Delete(ctxFor(t), "/fence", 0); err != nil {
				t.Fatal(err)
			}
			mustCreate(t, s, "/fence", "a")
			return store.Precondition{Key: "/fence", CreateRevision: rev}
		}, false},
	}
	for name, w := range writes {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				s := newStore(t)
				rev := mustCreate(t, s, "/k", "v1")
				pre := tt.fence(t, s)
				err := w(s, rev, pre)
				if tt.ok {
					if err != nil {
						t.Fatalf("%s with a precondition that holds: %v", name, err)
					}
					return
				}
				wantErr(t, name, err, store.ErrPrecondition)
				var pe *store.PreconditionError
				if !errors.As(err, &pe) || pe.Precondition != pre {
					t.Fatalf("%s: %v does not name the failed precondition %+v", name, err, pre)
				}
				if kv := wantValue(t, s, "/k", "v1"); kv.ModRevision != rev {
					t.Fatalf("failed %s moved /k to revision %d", name, kv.ModRevision)
				}
				if _, err := s.Get(ctxFor(t), "/new"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("failed %s created /new: %v", name, err)
				}
			})
		}
	}
	// With every precondition holding, the write's own outcome is reported.
	s := newStore(t)
	rev := mustCreate(t, s, "/k", "v1")
	pre := store.Precondition{Key: "/k", CreateRevision: rev}
	_, err := s.Update(ctxFor(t), "/k", []byte("v2"), rev+100, pre)
	wantErr(t, "Update at a stale revision with a holding precondition", err, store.ErrConflict)
	_, err = s.Delete(ctxFor(t), "/missing", 0, pre)
	wantErr(t, "Delete of a missing key with a holding precondition", err, store.ErrNotFound)
}

func testUpdate(t *testing.T, newStore func(*testing.T) store.Store) {
	tests := []struct {
		name string
		// prepare returns the revision to update at.
		prepare func(t *testing.T, s store.Store) int64
		wantErr error
		// after is the value the key must hold afterwards ("" = absent).
		after string
	}{
		{
			name:    "current revision",
			prepare: func(t *testing.T, s store.Store) int64 { return mustCreate(t, s, "/k", "v1") },
			after:   "v2",
		},
		{
			name: "stale revision",
			prepare: func(t *testing.T, s store.Store) int64 {
				rev := mustCreate(t, s, "/k", "v0")
				mustUpdate(t, s, "/k", "v1", rev)
				return rev
			},
			wantErr: store.ErrConflict,
			after:   "v1",
		},
		{
			name: "future revision",
			prepare: func(t *testing.T, s store.Store) int64 {
				return mustCreate(t, s, "/k", "v1") + 1000
			},
			wantErr: store.ErrConflict,
			after:   "v1",
		},
		{
			name:    "missing key",
			prepare: func(t *testing.T, s store.Store) int64 { return mustCreate(t, s, "/other", "x") },
			wantErr: store.ErrNotFound,
		},
		{
			name: "deleted key",
			prepare: func(t *testing.T, s store.Store) int64 {
				rev := mustCreate(t, s, "/k", "v1")
				if _, err := s.Delete(ctxFor(t), "/k", rev); err != nil {
					t.Fatal(err)
				}
				return rev
			},
			wantErr: store.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			expected := tt.prepare(t, s)
			var createRev int64
			if kv, err := s.Get(ctxFor(t), "/k"); err == nil {
				createRev = kv.CreateRevision
			}
			rev, err := s.Update(ctxFor(t), "/k", []byte("v2"), expected)
			if tt.wantErr != nil {
				wantErr(t, "Update", err, tt.wantErr)
			} else if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if tt.after == "" {
				_, err := s.Get(ctxFor(t), "/k")
				wantErr(t, "Get after Update", err, store.ErrNotFound)
				return
			}
			kv := wantValue(t, s, "/k", tt.after)
			if kv.CreateRevision != createRev {
				t.Fatalf("CreateRevision changed from %d to %d", createRev, kv.CreateRevision)
			}
			if tt.wantErr == nil && (kv.ModRevision != rev || rev <= expected) {
				t.Fatalf("Update returned revision %d (expected %d); Get has ModRevision %d", rev, expected, kv.ModRevision)
			}
		})
	}
}

func testDelete(t *testing.T, newStore func(*testing.T) store.Store) {
	tests := []struct {
		name     string
		create   bool
		expected func(created, updated int64) int64
		wantErr  error
	}{
		{name: "current revision", create: true, expected: func(_, u int64) int64 { return u }},
		{name: "any revision", create: true, expected: func(int64, int64) int64 { return 0 }},
		{name: "stale revision", create: true, expected: func(c, _ int64) int64 { return c }, wantErr: store.ErrConflict},
		{name: "missing key any revision", expected: func(int64, int64) int64 { return 0 }, wantErr: store.ErrNotFound},
		{name: "missing key with revision", expected: func(c, _ int64) int64 { return c }, wantErr: store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			created := mustCreate(t, s, "/other", "x")
			updated := created
			if tt.create {
				created = mustCreate(t, s, "/k", "v1")
				updated = mustUpdate(t, s, "/k", "v2", created)
			}
			kv, err := s.Delete(ctxFor(t), "/k", tt.expected(created, updated))
			if tt.wantErr != nil {
				wantErr(t, "Delete", err, tt.wantErr)
				if tt.create {
					if got := wantValue(t, s, "/k", "v2"); got.ModRevision != updated {
						t.Fatalf("failed Delete moved ModRevision to %d", got.ModRevision)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if kv.Key != "/k" || string(kv.Value) != "v2" || kv.CreateRevision != created || kv.ModRevision <= updated {
				t.Fatalf("Delete returned %+v; want key /k, value v2, CreateRevision %d, ModRevision > %d",
					kv, created, updated)
			}
			if rev := mustRevision(t, s); rev < kv.ModRevision {
				t.Fatalf("CurrentRevision %d is before the delete at %d", rev, kv.ModRevision)
			}
			_, err = s.Get(ctxFor(t), "/k")
			wantErr(t, "Get after Delete", err, store.ErrNotFound)
			_, err = s.Delete(ctxFor(t), "/k", 0)
			wantErr(t, "second Delete", err, store.ErrNotFound)

			// The key can be created again, as a new object.
			again := mustCreate(t, s, "/k", "v3")
			if kv := wantValue(t, s, "/k", "v3"); kv.CreateRevision != again {
				t.Fatalf("recreated key has CreateRevision %d, want %d", kv.CreateRevision, again)
			}
		})
	}
}

func testInvalidKeys(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, key := range []string{"", "no-slash"} {
		if _, err := s.Create(ctx, key, []byte("x")); err == nil {
			t.Errorf("Create(%q) succeeded; keys must start with /", key)
		}
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid-key error", key, err)
		}
	}
	if _, _, err := s.List(ctx, "no-slash/"); err == nil {
		t.Errorf("List(%q) succeeded; prefixes must start with /", "no-slash/")
	}
}

func testListPrefix(t *testing.T, s store.Store) {
	keys := []string{"/pods/a", "/pods/a/1", "/pods/a/2", "/pods/ab/1", "/pods/b/1", "/podsx/1", "/services/a/1"}
	for _, k := range keys {
		mustCreate(t, s, k, "value of "+k)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{prefix: "/pods/a/", want: []string{"/pods/a/1", "/pods/a/2"}},
		{prefix: "/pods/a", want: []string{"/pods/a", "/pods/a/1", "/pods/a/2", "/pods/ab/1"}},
		{prefix: "/pods/", want: []string{"/pods/a", "/pods/a/1", "/pods/a/2", "/pods/ab/1", "/pods/b/1"}},
		{prefix: "/pods/a/1", want: []string{"/pods/a/1"}},
		{prefix: "/nothing/", want: nil},
		{prefix: "/", want: keys},
		{prefix: "", want: keys},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("prefix=%q", tt.prefix), func(t *testing.T) {
			kvs, rev, err := s.List(ctxFor(t), tt.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var got []string
			for _, kv := range kvs {
				got = append(got, kv.Key)
				if string(kv.Value) != "value of "+kv.Key {
					t.Errorf("List value of %s = %q", kv.Key, kv.Value)
				}
				if kv.ModRevision > rev {
					t.Errorf("List at revision %d holds %s at later revision %d", rev, kv.Key, kv.ModRevision)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
			if rev <= 0 {
				t.Fatalf("List revision %d", rev)
			}
		})
	}
}

func testListOrder(t *testing.T, s store.Store) {
	const n = 57 // more than one page for small page sizes
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("/items/%03d", i))
	}
	shuffled := slices.Clone(keys)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var last int64
	for _, k := range shuffled {
		last = mustCreate(t, s, k, k)
	}
	kvs, rev, err := s.List(ctxFor(t), "/items/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if rev < last || rev != mustRevision(t, s) {
		t.Fatalf("List revision %d; last write %d, current revision %d", rev, last, mustRevision(t, s))
	}
	if len(kvs) != n {
		t.Fatalf("List returned %d keys, want %d", len(kvs), n)
	}
	for i, kv := range kvs {
		if kv.Key != keys[i] || string(kv.Value) != keys[i] {
			t.Fatalf("List[%d] = %s=%q, want %s", i, kv.Key, kv.Value, keys[i])
		}
	}

	// A later write moves the revision on; the earlier list stays earlier.
	up := mustUpdate(t, s, keys[0], "changed", kvs[0].ModRevision)
	_, rev2, err := s.List(ctxFor(t), "/items/")
	if err != nil {
		t.Fatal(err)
	}
	if rev2 < up || rev2 <= rev {
		t.Fatalf("List after a write at %d has revision %d (before: %d)", up, rev2, rev)
	}
}

func testRevisionMonotonic(t *testing.T, s store.Store) {
	prev := mustRevision(t, s)
	for i := range 10 {
		key := fmt.Sprintf("/mono/%d", i)
		rev := mustCreate(t, s, key, "x")
		if rev <= prev {
			t.Fatalf("write %d at revision %d, not after %d", i, rev, prev)
		}
		cur := mustRevision(t, s)
		if cur < rev {
			t.Fatalf("CurrentRevision %d before the write at %d", cur, rev)
		}
		prev = cur
	}
}

func testContextCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Get(ctx, "/k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Create(ctx, "/k", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Watch(ctx, "/", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Watch with a cancelled context: %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	if _, _, err := s.List(dctx, "/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("List past its deadline: %v, want context.DeadlineExceeded", err)
	}
}
