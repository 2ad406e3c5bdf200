package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
)

// Encryption at rest
//
// An encrypted value is stored as
//
//	"maestro:enc:aesgcm:v1:" | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// with a random nonce per write and the key (as passed to the Store, without
// the etcd prefix) as additional authenticated data, so that a ciphertext
// copied under another key does not decrypt. Values without the prefix are
// read as they are, so that data written before encryption was enabled stays
// readable (and is encrypted on its next write).

// EncryptedPrefix starts every value the encrypting store encrypts.
const EncryptedPrefix = "maestro:enc:aesgcm:v1:"

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

// ErrDecrypt reports a value that has EncryptedPrefix but does not decrypt:
// a wrong key, or a value tampered with or cut short.
var ErrDecrypt = errors.New("store: stored value does not decrypt")

// encrypting is a Store that encrypts the values of some keys before they
// reach its inner store, and decrypts what it reads back.
type encrypting struct {
	inner   Store
	aead    cipher.AEAD
	encrypt func(key string) bool
}

var _ Store = (*encrypting)(nil)

// NewEncrypting wraps inner so that the values of the keys for which
// encrypt returns true (every key, when encrypt is nil) are stored encrypted
// with key, which must be KeySize bytes. Values read through it (Get, List,
// Delete, and the values and previous values of watch events) are
// decrypted whatever encrypt says.
func NewEncrypting(inner Store, key []byte, encrypt func(key string) bool) (Store, error) {
	if inner == nil {
		return nil, errors.New("encrypting store: inner store is nil")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("encrypting store: key is %d bytes; AES-256 needs %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("encrypting store: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("encrypting store: %w", err)
	}
	if encrypt == nil {
		encrypt = func(string) bool { return true }
	}
	return &encrypting{inner: inner, aead: aead, encrypt: encrypt}, nil
}

// seal encrypts value for key if key is to be encrypted.
func (s *encrypting) seal(key string, value []byte) ([]byte, error) {
	if !s.encrypt(key) {
		return value, nil
	}
	ns := s.aead.NonceSize()
	out := make([]byte, len(EncryptedPrefix)+ns, len(EncryptedPrefix)+ns+len(value)+s.aead.Overhead())
	copy(out, EncryptedPrefix)
	nonce := out[len(EncryptedPrefix):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypting %q: reading a nonce: %w", key, err)
	}
	return s.aead.Seal(out, nonce, value, []byte(key)), nil
}

// open decrypts a stored value; a value without EncryptedPrefix is returned
// as it is.
func (s *encrypting) open(key string, stored []byte) ([]byte, error) {
	if !bytes.HasPrefix(stored, []byte(EncryptedPrefix)) {
		return stored, nil
	}
	data := stored[len(EncryptedPrefix):]
	ns := s.aead.NonceSize()
	if len(data) < ns+s.aead.Overhead() {
		return nil, fmt.Errorf("decrypting %q: %w: %d bytes is too short", key, ErrDecrypt, len(data))
	}
	plain, err := s.aead.Open(nil, data[:ns], data[ns:], []byte(key))
	if err != nil {
		return nil, fmt.Errorf("decrypting %q: %w: wrong key or tampered value", key, ErrDecrypt)
	}
	return plain, nil
}

// Get returns the decrypted value of key.
func (s *encrypting) Get(ctx context.Context, key string) (KV, error) {
	kv, err := s.inner.Get(ctx, key)
	if err != nil {
		return KV{}, err
	}
	if kv.Value, err = s.open(key, kv.Value); err != nil {
		return KV{}, err
	}
	return kv, nil
}

// List returns the decrypted values under prefix; one value that does not
// decrypt fails the whole list.
func (s *encrypting) List(ctx context.Context, prefix string) ([]KV, int64, error) {
	kvs, rev, err := s.inner.List(ctx, prefix)
	if err != nil {
		return nil, 0, err
	}
	for i := range kvs {
		if kvs[i].Value, err = s.open(kvs[i].Key, kvs[i].Value); err != nil {
			return nil, 0, fmt.Errorf("listing %q: %w", prefix, err)
		}
	}
	return kvs, rev, nil
}

// CurrentRevision is the inner store's.
func (s *encrypting) CurrentRevision(ctx context.Context) (int64, error) {
	return s.inner.CurrentRevision(ctx)
}

// Create stores value, encrypted if key is to be encrypted.
func (s *encrypting) Create(ctx context.Context, key string, value []byte, preconditions ...Precondition) (int64, error) {
	sealed, err := s.seal(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Create(ctx, key, sealed, preconditions...)
}

// Update replaces value, encrypted if key is to be encrypted.
func (s *encrypting) Update(ctx context.Context, key string, value []byte, expected int64, preconditions ...Precondition) (int64, error) {
	sealed, err := s.seal(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Update(ctx, key, sealed, expected, preconditions...)
}

// Delete deletes key and returns its decrypted last value. If that value
// does not decrypt, the key is deleted all the same and the error says so.
func (s *encrypting) Delete(ctx context.Context, key string, expected int64, preconditions ...Precondition) (KV, error) {
	kv, err := s.inner.Delete(ctx, key, expected, preconditions...)
	if err != nil {
		return KV{}, err
	}
	if kv.Value, err = s.open(key, kv.Value); err != nil {
		kv.Value = nil
		return kv, fmt.Errorf("deleted, but: %w", err)
	}
	return kv, nil
}

// Compact compacts the inner store.
func (s *encrypting) Compact(ctx context.Context, revision int64) error {
	return s.inner.Compact(ctx, revision)
}

// Close closes the inner store.
func (s *encrypting) Close() error { return s.inner.Close() }

// Watch watches the inner store and decrypts the values and previous values
// of its events. An event that does not decrypt ends the watch with an error
// naming the key.
func (s *encrypting) Watch(ctx context.Context, prefix string, fromRevision int64) (Watcher, error) {
	inner, err := s.inner.Watch(ctx, prefix, fromRevision)
	if err != nil {
		return nil, err
	}
	w := &decryptingWatcher{
		store:  s,
		inner:  inner,
		events: make(chan Event),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// decryptingWatcher decrypts the events of an inner watcher.
type decryptingWatcher struct {
	store    *encrypting
	inner    Watcher
	events   chan Event
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu  sync.Mutex
	err error
}

func (w *decryptingWatcher) Events() <-chan Event { return w.events }

func (w *decryptingWatcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop stops the inner watcher and waits for the decrypting goroutine.
func (w *decryptingWatcher) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.inner.Stop()
	<-w.done
}

func (w *decryptingWatcher) run() {
	defer close(w.done)
	defer close(w.events)
	defer w.inner.Stop()
	in := w.inner.Events()
	for {
		select {
		case <-w.stop:
			return
		case ev, ok := <-in:
			if !ok {
				w.setErr(w.inner.Err())
				return
			}
			var err error
			if ev.KV.Value, err = w.store.open(ev.KV.Key, ev.KV.Value); err == nil && ev.PrevValue != nil {
				ev.PrevValue, err = w.store.open(ev.KV.Key, ev.PrevValue)
			}
			if err != nil {
				w.setErr(fmt.Errorf("watch event at revision %d: %w", ev.KV.ModRevision, err))
				return
			}
			select {
			case w.events <- ev:
			case <-w.stop:
				return
			}
		}
	}
}

func (w *decryptingWatcher) setErr(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}
