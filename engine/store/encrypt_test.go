package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

func isSecret(key string) bool { return strings.HasPrefix(key, "/secrets/") }

func TestNewEncryptingRejectsBadKeys(t *testing.T) {
	inner := store.NewEtcd(nil, "/unused")
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := store.NewEncrypting(inner, make([]byte, n), isSecret); err == nil {
			t.Errorf("NewEncrypting accepted a %d-byte key", n)
		} else if !strings.Contains(err.Error(), "32") {
			t.Errorf("error for a %d-byte key does not say what is needed: %v", n, err)
		}
	}
	if _, err := store.NewEncrypting(nil, make([]byte, store.KeySize), isSecret); err == nil {
		t.Error("NewEncrypting accepted a nil inner store")
	}
}

// TestEncryptingAtRest looks at the bytes in etcd: secrets are ciphertext,
// other keys are not encrypted, old plaintext stays readable, and
// tampering is an error naming the key on every read path.
func TestEncryptingAtRest(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	raw := m.Client()
	inner := store.NewEtcd(raw, "/enc")
	key := make([]byte, store.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := store.NewEncrypting(inner, key, isSecret)
	if err != nil {
		t.Fatal(err)
	}
	rawValue := func(k string) []byte {
		t.Helper()
		resp, err := raw.Get(ctx, "/enc"+k)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("raw get %s: %v %v", k, resp, err)
		}
		return resp.Kvs[0].Value
	}
	plaintext := []byte("password=hunter2")

	// Written before encryption was enabled: readable as it is.
	if _, err := inner.Create(ctx, "/secrets/old", plaintext); err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(ctx, "/secrets/old"); err != nil || !bytes.Equal(kv.Value, plaintext) {
		t.Fatalf("old plaintext secret: %q %v", kv.Value, err)
	}

	rev, err := s.Create(ctx, "/secrets/db", plaintext)
	if err != nil {
		t.Fatal(err)
	}
	stored := rawValue("/secrets/db")
	if !bytes.HasPrefix(stored, []byte(store.EncryptedPrefix)) || bytes.Contains(stored, plaintext) ||
		bytes.Contains(stored, []byte("hunter2")) {
		t.Fatalf("secret stored as %q", stored)
	}
	// A random nonce per write: the same value encrypts differently.
	if _, err := s.Update(ctx, "/secrets/db", plaintext, rev); err != nil {
		t.Fatal(err)
	}
	if again := rawValue("/secrets/db"); bytes.Equal(again, stored) {
		t.Fatal("two writes of the same value stored the same ciphertext")
	}
	if kv, err := s.Get(ctx, "/secrets/db"); err != nil || !bytes.Equal(kv.Value, plaintext) {
		t.Fatalf("Get secret: %q %v", kv.Value, err)
	}

	if _, err := s.Create(ctx, "/pods/web", []byte("spec")); err != nil {
		t.Fatal(err)
	}
	if v := rawValue("/pods/web"); string(v) != "spec" {
		t.Fatalf("non-secret stored as %q", v)
	}

	// A ciphertext copied under another key does not decrypt there.
	if _, err := raw.Put(ctx, "/enc/secrets/copy", string(rawValue("/secrets/db"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "/secrets/copy"); !errors.Is(err, store.ErrDecrypt) {
		t.Fatalf("moved ciphertext: %v, want ErrDecrypt", err)
	}
	if _, err := inner.Delete(ctx, "/secrets/copy", 0); err != nil {
		t.Fatal(err)
	}

	// Tamper with one byte of the ciphertext.
	from, _ := s.CurrentRevision(ctx)
	w, err := s.Watch(ctx, "/secrets/", from)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	tampered := bytes.Clone(rawValue("/secrets/db"))
	tampered[len(tampered)-1] ^= 0x01
	if _, err := raw.Put(ctx, "/enc/secrets/db", string(tampered)); err != nil {
		t.Fatal(err)
	}
	checkTamperErr := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrDecrypt) || !strings.Contains(err.Error(), `"/secrets/db"`) {
			t.Fatalf("%s of a tampered secret: %v, want ErrDecrypt naming /secrets/db", what, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("%s error leaks the plaintext: %v", what, err)
		}
	}
	kv, err := s.Get(ctx, "/secrets/db")
	checkTamperErr("Get", err)
	if kv.Value != nil {
		t.Fatalf("Get of a tampered secret returned a value %q", kv.Value)
	}
	_, _, err = s.List(ctx, "/secrets/")
	checkTamperErr("List", err)
	select {
	case ev, ok := <-w.Events():
		if ok {
			t.Fatalf("watch delivered the tampered value as %q", ev.KV.Value)
		}
		checkTamperErr("Watch", w.Err())
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end on a tampered value")
	}

	// Truncated to less than a nonce.
	if _, err := raw.Put(ctx, "/enc/secrets/db", store.EncryptedPrefix+"abc"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "/secrets/db")
	checkTamperErr("Get of a truncated value", err)
	_, err = s.Delete(ctx, "/secrets/db", 0)
	checkTamperErr("Delete", err)

	// A store with another key cannot read the secrets.
	other, _ := store.NewEncrypting(inner, bytes.Repeat([]byte{1}, store.KeySize), isSecret)
	if _, err := s.Create(ctx, "/secrets/new", plaintext); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "/secrets/new"); !errors.Is(err, store.ErrDecrypt) {
		t.Fatalf("Get with the wrong key: %v, want ErrDecrypt", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "store.key")
	key, err := store.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != store.KeySize || bytes.Equal(key, make([]byte, store.KeySize)) {
		t.Fatalf("new key %x", key)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := store.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("reloaded key %x (%v), want %x", again, err, key)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "keys", ".key-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	// Racing creators agree on one key.
	racePath := filepath.Join(dir, "race.key")
	var wg sync.WaitGroup
	keys := make([][]byte, 8)
	for i := range keys {
		wg.Go(func() {
			k, err := store.LoadOrCreateKey(racePath)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("racing LoadOrCreateKey calls returned different keys")
		}
	}

	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    string
	}{
		{name: "too short", content: make([]byte, 16), mode: 0o600, want: "16 bytes"},
		{name: "too long", content: make([]byte, 33), mode: 0o600, want: "33 bytes"},
		{name: "empty", content: nil, mode: 0o600, want: "0 bytes"},
		{name: "group readable", content: make([]byte, 32), mode: 0o640, want: "chmod 600"},
		{name: "world readable", content: make([]byte, 32), mode: 0o644, want: "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.key")
			if err := os.WriteFile(p, tt.content, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := store.LoadOrCreateKey(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("LoadOrCreateKey: %v, want an error naming %s and saying %q", err, p, tt.want)
			}
			// The bad file is left alone, not replaced by a new key.
			if b, _ := os.ReadFile(p); len(b) != len(tt.content) {
				t.Fatalf("bad key file rewritten to %d bytes", len(b))
			}
		})
	}
}
