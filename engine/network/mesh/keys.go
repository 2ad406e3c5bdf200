package mesh

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// KeyFile is the name of the node's WireGuard private key in the agent's
// data directory.
const KeyFile = "wireguard.key"

// LoadOrCreateKey reads the node's private key from dir/KeyFile, or makes
// and stores one (0600) on the first start, so the node keeps its public
// key across restarts. A key file readable by others is tightened to
// 0600. Errors name the file, never the key.
func LoadOrCreateKey(dir string) (wgtypes.Key, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("mesh: reading the WireGuard key %s: %w", path, err)
	}
	key, err := wgtypes.ParseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("mesh: the WireGuard key in %s is not a base64 32-byte key; move the file away to make a new one", path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return wgtypes.Key{}, fmt.Errorf("mesh: restricting the WireGuard key %s to 0600: %w", path, err)
		}
	}
	return key, nil
}

func createKey(path string) (wgtypes.Key, error) {
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("mesh: generating a WireGuard key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return wgtypes.Key{}, fmt.Errorf("mesh: creating %s: %w", filepath.Dir(path), err)
	}
	// O_EXCL: two agents racing on one data dir keep the same key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(filepath.Dir(path))
	}
	if err != nil {
		return wgtypes.Key{}, fmt.Errorf("mesh: storing the WireGuard key in %s: %w", path, err)
	}
	_, werr := f.WriteString(key.String() + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return wgtypes.Key{}, fmt.Errorf("mesh: storing the WireGuard key in %s: %w", path, err)
	}
	return key, nil
}
