package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-dev/maestro/engine/store/keyring"
)

// Encryption at rest: the values of some keys (the secrets) are sealed by
// a keyring.Keyring (see package keyring for the format) before they reach the inner
// store, and opened when read back. Values that are not sealed are read as
// they are, so that data written before encryption was enabled stays
// readable (and is sealed on its next write).

// Encrypting is a Store that seals the values of some keys before they
// reach its inner store, and opens what it reads back. Its keyring can be
// replaced while it runs (key rotation).
type Encrypting struct {
	inner   Store
	keys    atomic.Pointer[keyring.Keyring]
	encrypt func(key string) bool

	// refresh, when set, reloads the keyring when a value names a key the
	// current one lacks (another server rotated the shared key file).
	refreshMu   sync.Mutex
	refresh     func() (*keyring.Keyring, error)
	refreshedAt time.Time
}

var _ Store = (*Encrypting)(nil)

// refreshInterval bounds how often an unknown key ID reloads the keyring.
const refreshInterval = 500 * time.Millisecond

// NewEncrypting wraps inner so that the values of the keys for which
// encrypt returns true (every key, when encrypt is nil) are sealed with the
// primary key of keys. Values read through it (Get, List, Delete, and the
// values and previous values of watch events) are opened whatever encrypt
// says.
func NewEncrypting(inner Store, keys *keyring.Keyring, encrypt func(key string) bool) (*Encrypting, error) {
	if inner == nil {
		return nil, errors.New("encrypting store: inner store is nil")
	}
	if keys == nil {
		return nil, errors.New("encrypting store: keyring is nil")
	}
	if encrypt == nil {
		encrypt = func(string) bool { return true }
	}
	s := &Encrypting{inner: inner, encrypt: encrypt}
	s.keys.Store(keys)
	return s, nil
}

// Keyring is the keyring in use.
func (s *Encrypting) Keyring() *keyring.Keyring { return s.keys.Load() }

// SetKeyring replaces the keyring: later writes are sealed with its
// primary key, and reads open values with its keys.
func (s *Encrypting) SetKeyring(keys *keyring.Keyring) { s.keys.Store(keys) }

// SetRefresh sets how to reload the keyring when a value names a key the
// current one lacks (at most every refreshInterval).
func (s *Encrypting) SetRefresh(refresh func() (*keyring.Keyring, error)) {
	s.refreshMu.Lock()
	s.refresh = refresh
	s.refreshMu.Unlock()
}

// seal encrypts value for key if key is to be encrypted.
func (s *Encrypting) seal(key string, value []byte) ([]byte, error) {
	if !s.encrypt(key) {
		return value, nil
	}
	return s.keys.Load().Seal(key, value)
}

// open decrypts a stored value; a value that is not sealed is returned as
// it is. A value sealed with a key the keyring lacks reloads the keyring
// once and tries again.
func (s *Encrypting) open(key string, stored []byte) ([]byte, error) {
	plain, _, err := s.keys.Load().Open(key, stored)
	if errors.Is(err, keyring.ErrUnknownKey) && s.refreshKeyring() {
		plain, _, err = s.keys.Load().Open(key, stored)
	}
	return plain, err
}

// refreshKeyring reloads the keyring and reports whether it changed.
func (s *Encrypting) refreshKeyring() bool {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if s.refresh == nil || time.Since(s.refreshedAt) < refreshInterval {
		return false
	}
	s.refreshedAt = time.Now()
	ring, err := s.refresh()
	if err != nil || ring == nil {
		return false
	}
	s.keys.Store(ring)
	return true
}

// Get returns the decrypted value of key.
func (s *Encrypting) Get(ctx context.Context, key string) (KV, error) {
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
func (s *Encrypting) List(ctx context.Context, prefix string) ([]KV, int64, error) {
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
func (s *Encrypting) CurrentRevision(ctx context.Context) (int64, error) {
	return s.inner.CurrentRevision(ctx)
}

// Create stores value, encrypted if key is to be encrypted.
func (s *Encrypting) Create(ctx context.Context, key string, value []byte, preconditions ...Precondition) (int64, error) {
	sealed, err := s.seal(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Create(ctx, key, sealed, preconditions...)
}

// Update replaces value, encrypted if key is to be encrypted.
func (s *Encrypting) Update(ctx context.Context, key string, value []byte, expected int64, preconditions ...Precondition) (int64, error) {
	sealed, err := s.seal(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Update(ctx, key, sealed, expected, preconditions...)
}

// Delete deletes key and returns its decrypted last value. If that value
// does not decrypt, the key is deleted all the same and the error says so.
func (s *Encrypting) Delete(ctx context.Context, key string, expected int64, preconditions ...Precondition) (KV, error) {
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
func (s *Encrypting) Compact(ctx context.Context, revision int64) error {
	return s.inner.Compact(ctx, revision)
}

// Close closes the inner store.
func (s *Encrypting) Close() error { return s.inner.Close() }

// Watch watches the inner store and decrypts the values and previous values
// of its events. An event that does not decrypt ends the watch with an error
// naming the key.
func (s *Encrypting) Watch(ctx context.Context, prefix string, fromRevision int64) (Watcher, error) {
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
	store    *Encrypting
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
