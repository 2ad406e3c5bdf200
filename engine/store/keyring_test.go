package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
)

// TestKeyringRotation walks a store through a rotation: a legacy key file
// (v1 values), a new primary key, re-encryption by compare-and-swap (a
// write racing it is kept), and the old key dropped.
func TestKeyringRotation(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	inner := store.NewEtcd(m.Client(), "/rot")
	legacy := legacyKeyFile(t)
	racing := &racingStore{Store: inner}
	s, err := store.NewEncrypting(racing, legacy, isSecret)
	if err != nil {
		t.Fatal(err)
	}
	rawValue := func(k string) []byte {
		t.Helper()
		resp, err := m.Client().Get(ctx, "/rot"+k)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("raw get %s: %v %v", k, resp, err)
		}
		return resp.Kvs[0].Value
	}
	for _, k := range []string{"/secrets/a", "/secrets/b", "/secrets/c"} {
		if _, err := s.Create(ctx, k, []byte("value of "+k)); err != nil {
			t.Fatal(err)
		}
	}
	// A legacy key file keeps writing the format older servers read.
	if v := rawValue("/secrets/a"); !bytes.HasPrefix(v, []byte(keyring.EncryptedPrefix)) {
		t.Fatalf("legacy keyring wrote %q", v[:30])
	}

	key, err := keyring.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	next, err := legacy.WithPrimary(key)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKeyring(next)
	if _, err := s.Create(ctx, "/secrets/d", []byte("value of /secrets/d")); err != nil {
		t.Fatal(err)
	}
	if v := rawValue("/secrets/d"); !bytes.HasPrefix(v, []byte(keyring.SealedPrefix+key.ID+":")) {
		t.Fatalf("new primary wrote %q", v[:40])
	}
	usage, err := s.KeyUsage(ctx, "/secrets/")
	if err != nil || usage[keyring.LegacyKeyID] != 3 || usage[key.ID] != 1 {
		t.Fatalf("key usage before re-encryption: %v %v", usage, err)
	}

	// A client writes /secrets/b while the rotation reads it: the rotation
	// must not overwrite that write with the old value.
	racing.beforeUpdate("/secrets/b", func() {
		kv, err := inner.Get(ctx, "/secrets/b")
		if err != nil {
			t.Error(err)
			return
		}
		sealed, _ := store.NewEncrypting(inner, next, isSecret)
		if _, err := sealed.Update(ctx, "/secrets/b", []byte("written during the rotation"), kv.ModRevision); err != nil {
			t.Error(err)
		}
	})
	n, err := s.Reencrypt(ctx, "/secrets/")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("re-encrypted %d values, want 2 (a and c; b was rewritten by its client, d was new)", n)
	}
	only, err := next.Only(key.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKeyring(only)
	wantValues(t, s, map[string]string{"/secrets/a": "value of /secrets/a", "/secrets/b": "written during the rotation",
		"/secrets/c": "value of /secrets/c", "/secrets/d": "value of /secrets/d"})
	if usage, err := s.KeyUsage(ctx, "/secrets/"); err != nil || len(usage) != 1 || usage[key.ID] != 4 {
		t.Fatalf("key usage after re-encryption: %v %v", usage, err)
	}
}

// legacyKeyFile writes a raw 32-byte key file (the format before key IDs)
// and reads it back as a keyring.
func legacyKeyFile(t *testing.T) *keyring.Keyring {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacy.key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{3}, keyring.KeySize), 0o600); err != nil {
		t.Fatal(err)
	}
	legacy, err := keyring.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if legacy.Primary() != keyring.LegacyKeyID {
		t.Fatalf("raw key file read as %v", legacy.IDs())
	}
	return legacy
}

// wantValues lists /secrets/ through s: exactly want.
func wantValues(t *testing.T, s store.Store, want map[string]string) {
	t.Helper()
	kvs, _, err := s.List(t.Context(), "/secrets/")
	if err != nil || len(kvs) != len(want) {
		t.Fatalf("list: %d values, %v", len(kvs), err)
	}
	for _, kv := range kvs {
		if string(kv.Value) != want[kv.Key] {
			t.Errorf("%s = %q, want %q", kv.Key, kv.Value, want[kv.Key])
		}
	}
}

// TestKeyringRefreshOnUnknownKey: a value sealed with a key this store does
// not hold yet (another server rotated the shared key file) reloads it.
func TestKeyringRefreshOnUnknownKey(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	inner := store.NewEtcd(m.Client(), "/refresh")
	k1 := ringOf(t, "k1", bytes.Repeat([]byte{1}, keyring.KeySize))
	k2, err := k1.WithPrimary(keyring.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, keyring.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := store.NewEncrypting(inner, k2, isSecret)
	if _, err := rotated.Create(ctx, "/secrets/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	stale, _ := store.NewEncrypting(inner, k1, isSecret)
	_, err = stale.Get(ctx, "/secrets/x")
	if !errors.Is(err, keyring.ErrDecrypt) || !bytes.Contains([]byte(err.Error()), []byte(`"k2"`)) {
		t.Fatalf("Get without the key: %v, want ErrDecrypt naming key k2", err)
	}
	stale.SetRefresh(func() (*keyring.Keyring, error) { return k2, nil })
	time.Sleep(600 * time.Millisecond) // past the refresh rate limit
	if kv, err := stale.Get(ctx, "/secrets/x"); err != nil || string(kv.Value) != "x" {
		t.Fatalf("Get after a refresh: %q %v", kv.Value, err)
	}
}

// racingStore runs a function before the first Update of a key, to make a
// write race the caller's read-modify-write.
type racingStore struct {
	store.Store
	mu    sync.Mutex
	races map[string]func()
}

func (r *racingStore) beforeUpdate(key string, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.races == nil {
		r.races = map[string]func(){}
	}
	r.races[key] = f
}

func (r *racingStore) Update(ctx context.Context, key string, value []byte, expected int64, pre ...store.Precondition) (int64, error) {
	r.mu.Lock()
	f := r.races[key]
	delete(r.races, key)
	r.mu.Unlock()
	if f != nil {
		f()
	}
	return r.Store.Update(ctx, key, value, expected, pre...)
}
