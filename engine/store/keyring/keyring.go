// Package keyring holds the keys the store seals secrets with: sealed
// values (the format, sealing and opening), keyrings of named keys for
// rotation, and key files. It imports nothing of the store, so what only
// makes or reads key files (the provider's SSH installer) need not link
// etcd.
package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Sealed values
//
// A value sealed by a keyring is stored as
//
//	"maestro:enc:aesgcm:v2:" | key ID | ":" | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// with a random nonce per write and the store key (without the etcd prefix)
// as additional authenticated data, so that a ciphertext copied under
// another key does not decrypt. The key ID says which key of the keyring
// opens it, so keys can be rotated: a new key seals new writes while the
// old ones still open what they sealed.
//
// Values written before keys had IDs start with "maestro:enc:aesgcm:v1:"
// (no ID): every key of the keyring is tried on them. A keyring read from
// such a one-key file (a raw 32-byte key file) keeps writing v1 values, so
// servers of an older version sharing the etcd still read them.

// EncryptedPrefix starts every value sealed without a key ID (v1).
const EncryptedPrefix = "maestro:enc:aesgcm:v1:"

// SealedPrefix starts every value sealed with a key ID (v2).
const SealedPrefix = "maestro:enc:aesgcm:v2:"

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

// LegacyKeyID names the key of a raw 32-byte key file.
const LegacyKeyID = "legacy"

// ErrDecrypt reports a value that is sealed but does not decrypt: a wrong
// or missing key, or a value tampered with or cut short.
var ErrDecrypt = errors.New("store: stored value does not decrypt")

// validKeyID: IDs are stored in every sealed value; keep them short and
// free of the ":" that ends them.
var validKeyID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Key is one named encryption key.
type Key struct {
	ID     string
	Secret []byte
}

// NewKey returns a random key whose ID says when it was made
// ("k20250601-120000-3f9a").
func NewKey(now time.Time) (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("generating an encryption key: %w", err)
	}
	suffix := make([]byte, 2)
	if _, err := rand.Read(suffix); err != nil {
		return Key{}, fmt.Errorf("generating an encryption key: %w", err)
	}
	id := "k" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(suffix)
	return Key{ID: id, Secret: secret}, nil
}

// Keyring is an ordered set of keys: the first (the primary) seals every
// write, and each key opens the values it sealed. It is immutable.
type Keyring struct {
	keys  []Key
	aeads []cipher.AEAD
	// v1 seals without key IDs (a keyring from a raw key file).
	v1 bool
}

// NewKeyring builds a keyring; keys[0] is the primary.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("keyring: no keys")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for i, key := range keys {
		if !validKeyID.MatchString(key.ID) {
			return nil, fmt.Errorf("keyring: keys[%d].id %q: lower-case letters, digits and '-', at most 63", i, key.ID)
		}
		if seen[key.ID] {
			return nil, fmt.Errorf("keyring: keys[%d].id %q: duplicate", i, key.ID)
		}
		seen[key.ID] = true
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("keyring: keys[%d] (%s) is %d bytes; AES-256 needs %d", i, key.ID, len(key.Secret), KeySize)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("keyring: keys[%d] (%s): %w", i, key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: keys[%d] (%s): %w", i, key.ID, err)
		}
		k.keys = append(k.keys, Key{ID: key.ID, Secret: bytes.Clone(key.Secret)})
		k.aeads = append(k.aeads, aead)
	}
	return k, nil
}

// legacyKeyring is the keyring of a raw key file: one key, v1 values.
func legacyKeyring(secret []byte) (*Keyring, error) {
	k, err := NewKeyring(Key{ID: LegacyKeyID, Secret: secret})
	if err != nil {
		return nil, err
	}
	k.v1 = true
	return k, nil
}

// Primary is the ID of the key that seals writes.
func (k *Keyring) Primary() string { return k.keys[0].ID }

// IDs are the IDs of every key, the primary first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// WithPrimary returns a keyring with key first (sealing new writes) and the
// keys of k after it (still opening what they sealed).
func (k *Keyring) WithPrimary(key Key) (*Keyring, error) {
	return NewKeyring(append([]Key{key}, k.keys...)...)
}

// Only returns a keyring of the one key id.
func (k *Keyring) Only(id string) (*Keyring, error) {
	for _, key := range k.keys {
		if key.ID == id {
			return NewKeyring(key)
		}
	}
	return nil, fmt.Errorf("keyring: no key %q", id)
}

func (k *Keyring) index(id string) int {
	for i, key := range k.keys {
		if key.ID == id {
			return i
		}
	}
	return -1
}

// Seal encrypts value, binding it to storeKey.
func (k *Keyring) Seal(storeKey string, value []byte) ([]byte, error) {
	aead := k.aeads[0]
	head := SealedPrefix + k.keys[0].ID + ":"
	if k.v1 {
		head = EncryptedPrefix
	}
	ns := aead.NonceSize()
	out := make([]byte, len(head)+ns, len(head)+ns+len(value)+aead.Overhead())
	copy(out, head)
	nonce := out[len(head):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypting %q: reading a nonce: %w", storeKey, err)
	}
	return aead.Seal(out, nonce, value, []byte(storeKey)), nil
}

// SealedWith returns the ID of the key that sealed stored ("" for a v1
// value, whose key has no ID in it) and whether stored is sealed at all.
func SealedWith(stored []byte) (id string, rest []byte, sealed bool) {
	if data, ok := bytes.CutPrefix(stored, []byte(SealedPrefix)); ok {
		id, rest, found := bytes.Cut(data, []byte(":"))
		if !found {
			return "", nil, true
		}
		return string(id), rest, true
	}
	if data, ok := bytes.CutPrefix(stored, []byte(EncryptedPrefix)); ok {
		return "", data, true
	}
	return "", stored, false
}

// ErrUnknownKey: the value names a key the keyring does not hold.
var ErrUnknownKey = errors.New("sealed with a key that is not in the key file")

// Open decrypts a stored value and returns the ID of the key that opened
// it; a value that is not sealed is returned as it is, with ID "".
func (k *Keyring) Open(storeKey string, stored []byte) ([]byte, string, error) {
	id, data, sealed := SealedWith(stored)
	if !sealed {
		return stored, "", nil
	}
	candidates := []int{}
	if bytes.HasPrefix(stored, []byte(SealedPrefix)) {
		i := k.index(id)
		if i < 0 {
			return nil, "", fmt.Errorf("decrypting %q: %w: %w %q", storeKey, ErrDecrypt, ErrUnknownKey, id)
		}
		candidates = append(candidates, i)
	} else {
		for i := range k.keys {
			candidates = append(candidates, i)
		}
	}
	for _, i := range candidates {
		aead := k.aeads[i]
		ns := aead.NonceSize()
		if len(data) < ns+aead.Overhead() {
			return nil, "", fmt.Errorf("decrypting %q: %w: %d bytes is too short", storeKey, ErrDecrypt, len(data))
		}
		if plain, err := aead.Open(nil, data[:ns], data[ns:], []byte(storeKey)); err == nil {
			return plain, k.keys[i].ID, nil
		}
	}
	return nil, "", fmt.Errorf("decrypting %q: %w: wrong key or tampered value", storeKey, ErrDecrypt)
}

// SealedByPrimary reports whether stored (the value of storeKey) is
// sealed, in the format k writes, with k's primary key.
func (k *Keyring) SealedByPrimary(storeKey string, stored []byte) bool {
	id, _, sealed := SealedWith(stored)
	if !sealed {
		return false
	}
	if k.v1 {
		_, opener, err := k.Open(storeKey, stored)
		return err == nil && id == "" && opener == k.Primary()
	}
	return id == k.Primary()
}
