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

// keyring is a one-key keyring for tests.
func keyring(t *testing.T, id string, secret []byte) *store.Keyring {
	t.Helper()
	k, err := store.NewKeyring(store.Key{ID: id, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	good := make([]byte, store.KeySize)
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := store.NewKeyring(store.Key{ID: "k1", Secret: make([]byte, n)}); err == nil {
			t.Errorf("NewKeyring accepted a %d-byte key", n)
		} else if !strings.Contains(err.Error(), "32") {
			t.Errorf("error for a %d-byte key does not say what is needed: %v", n, err)
		}
	}
	for name, keys := range map[string][]store.Key{
		"no keys":      nil,
		"empty id":     {{ID: "", Secret: good}},
		"id with ':'":  {{ID: "a:b", Secret: good}},
		"upper case":   {{ID: "K1", Secret: good}},
		"duplicate id": {{ID: "k1", Secret: good}, {ID: "k1", Secret: good}},
	} {
		if _, err := store.NewKeyring(keys...); err == nil {
			t.Errorf("NewKeyring accepted %s", name)
		}
	}
	inner := store.NewEtcd(nil, "/unused")
	if _, err := store.NewEncrypting(nil, keyring(t, "k1", good), isSecret); err == nil {
		t.Error("NewEncrypting accepted a nil inner store")
	}
	if _, err := store.NewEncrypting(inner, nil, isSecret); err == nil {
		t.Error("NewEncrypting accepted a nil keyring")
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
	s, err := store.NewEncrypting(inner, keyring(t, "k1", key), isSecret)
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
	if !bytes.HasPrefix(stored, []byte(store.SealedPrefix+"k1:")) || bytes.Contains(stored, plaintext) ||
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
	other, _ := store.NewEncrypting(inner, keyring(t, "k1", bytes.Repeat([]byte{1}, store.KeySize)), isSecret)
	if _, err := s.Create(ctx, "/secrets/new", plaintext); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "/secrets/new"); !errors.Is(err, store.ErrDecrypt) {
		t.Fatalf("Get with the wrong key: %v, want ErrDecrypt", err)
	}
}

func TestLoadOrCreateKeyring(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "store.key")
	ring, err := store.LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.IDs()) != 1 || ring.Primary() == "" {
		t.Fatalf("new key file has keys %v", ring.IDs())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := store.LoadOrCreateKeyring(path)
	if err != nil || again.Primary() != ring.Primary() {
		t.Fatalf("reloaded key file: %v (%v), want primary %s", again, err, ring.Primary())
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "keys", ".key-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	// Racing creators agree on one key.
	racePath := filepath.Join(dir, "race.key")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			k, err := store.LoadOrCreateKeyring(racePath)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.Primary()
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatal("racing LoadOrCreateKeyring calls returned different keys")
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
		{name: "bad JSON", content: []byte(`{"keys": [`), mode: 0o600, want: "unexpected EOF"},
		{name: "unknown field", content: []byte(`{"keys": [], "primary": "x"}`), mode: 0o600, want: "primary"},
		{name: "no keys", content: []byte(`{"keys": []}`), mode: 0o600, want: "no keys"},
		{name: "short key", content: []byte(`{"keys": [{"id": "k1", "secret": "AAAA"}]}`), mode: 0o600, want: "3 bytes"},
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
			_, err := store.LoadOrCreateKeyring(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("LoadOrCreateKeyring: %v, want an error naming %s and saying %q", err, p, tt.want)
			}
			// The bad file is left alone, not replaced by a new key.
			if b, _ := os.ReadFile(p); len(b) != len(tt.content) {
				t.Fatalf("bad key file rewritten to %d bytes", len(b))
			}
		})
	}
}
