package store_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
)

func isSecret(key string) bool { return strings.HasPrefix(key, "/secrets/") }

// ringOf is a one-key keyring for tests.
func ringOf(t *testing.T, id string, secret []byte) *keyring.Keyring {
	t.Helper()
	k, err := keyring.NewKeyring(keyring.Key{ID: id, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestNewEncryptingRefuses: an encrypting store needs an inner store and
// a keyring.
func TestNewEncryptingRefuses(t *testing.T) {
	good := make([]byte, keyring.KeySize)
	inner := store.NewEtcd(nil, "/unused")
	if _, err := store.NewEncrypting(nil, ringOf(t, "k1", good), isSecret); err == nil {
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
	key := make([]byte, keyring.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := store.NewEncrypting(inner, ringOf(t, "k1", key), isSecret)
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
	if !bytes.HasPrefix(stored, []byte(keyring.SealedPrefix+"k1:")) || bytes.Contains(stored, plaintext) ||
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
	if _, err := s.Get(ctx, "/secrets/copy"); !errors.Is(err, keyring.ErrDecrypt) {
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
		if !errors.Is(err, keyring.ErrDecrypt) || !strings.Contains(err.Error(), `"/secrets/db"`) {
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
	if _, err := raw.Put(ctx, "/enc/secrets/db", keyring.EncryptedPrefix+"abc"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "/secrets/db")
	checkTamperErr("Get of a truncated value", err)
	_, err = s.Delete(ctx, "/secrets/db", 0)
	checkTamperErr("Delete", err)

	// A store with another key cannot read the secrets.
	other, _ := store.NewEncrypting(inner, ringOf(t, "k1", bytes.Repeat([]byte{1}, keyring.KeySize)), isSecret)
	if _, err := s.Create(ctx, "/secrets/new", plaintext); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "/secrets/new"); !errors.Is(err, keyring.ErrDecrypt) {
		t.Fatalf("Get with the wrong key: %v, want ErrDecrypt", err)
	}
}
