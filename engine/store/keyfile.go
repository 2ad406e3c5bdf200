package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateKey reads the encryption key in path, or creates it: KeySize
// random bytes in a file of mode 0600 (and its directory, mode 0700, if
// missing). An existing file must hold exactly KeySize bytes and be readable
// by its owner only; anything else is an error, never a new key, since a new
// key would make the data written with the old one unreadable.
//
// The file is written under a temporary name and linked into place, so that
// processes racing to create it agree on one key and none reads a partial
// file.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600; say so in case that ever changes.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			return readKey(path)
		}
		return nil, fmt.Errorf("creating encryption key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return key, nil
}

// readKey reads and checks an existing key file.
func readKey(path string) ([]byte, error) {
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
	if info.Size() != KeySize {
		return nil, fmt.Errorf("reading encryption key %s: %d bytes, want %d", path, info.Size(), KeySize)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption key %s: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("reading encryption key %s: %d bytes, want %d", path, len(key), KeySize)
	}
	return key, nil
}
