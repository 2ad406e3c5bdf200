package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Key files
//
// A key file holds the keyring secrets are sealed with, as JSON:
//
//	{"keys": [{"id": "k20250601-120000-3f9a", "secret": "<base64 of 32 bytes>"}, ...]}
//
// The first key seals every write; all of them open what they sealed. A
// file of exactly KeySize raw bytes (the format before keys had IDs) is a
// keyring of one key, LegacyKeyID, that keeps writing v1 values. Key files
// are readable by their owner only.

type keyFileJSON struct {
	Keys []keyJSON `json:"keys"`
}

type keyJSON struct {
	ID     string `json:"id"`
	Secret []byte `json:"secret"`
}

// LoadOrCreate reads the key file at path, or creates it with one
// new key (and its directory, mode 0700, if missing). An existing file that
// does not parse, or that others may read, is an error, never a new key,
// since a new key would make the data sealed with the old one unreadable.
//
// The file is written under a temporary name and linked into place, so
// that processes racing to create it agree on one key and none reads a
// partial file.
func LoadOrCreate(path string) (*Keyring, error) {
	ring, err := Read(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return ring, err
	}
	key, err := NewKey(time.Now())
	if err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if ring, err = NewKeyring(key); err != nil {
		return nil, err
	}
	data, err := encodeKeyring(ring)
	if err != nil {
		return nil, err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			return Read(path)
		}
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return ring, nil
}

// Read reads and checks an existing key file.
func Read(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption key %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("reading encryption key %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("reading encryption key %s: mode %04o lets others read it; run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption key %s: %w", path, err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		if len(data) != KeySize {
			return nil, fmt.Errorf("reading encryption key %s: %d bytes is neither a key file (JSON) nor a raw %d-byte key", path, len(data), KeySize)
		}
		return legacyKeyring(data)
	}
	var f keyFileJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading encryption key %s: %w", path, err)
	}
	keys := make([]Key, len(f.Keys))
	for i, k := range f.Keys {
		keys[i] = Key{ID: k.ID, Secret: k.Secret}
	}
	ring, err := NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("reading encryption key %s: %w", path, err)
	}
	return ring, nil
}

// Write replaces the key file at path with ring, atomically (a
// reader sees the old file or the new one, never a mix) and durably.
func Write(path string, ring *Keyring) error {
	data, err := encodeKeyring(ring)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return fmt.Errorf("writing encryption key %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing encryption key %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

func encodeKeyring(ring *Keyring) ([]byte, error) {
	f := keyFileJSON{Keys: make([]keyJSON, len(ring.keys))}
	for i, k := range ring.keys {
		f.Keys[i] = keyJSON{ID: k.ID, Secret: k.Secret}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding key file: %w", err)
	}
	return append(data, '\n'), nil
}

// writeTemp writes data, synced, to a new file of mode 0600 beside path
// (creating the directory, mode 0700, if missing) and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600; say so in case that ever changes.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// syncDir makes new names in dir durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
