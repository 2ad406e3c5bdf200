package controlplane

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
)

// DefaultKeyFilePollInterval is how often a server reads its key file
// again, to pick up a key another server sharing the file added.
const DefaultKeyFilePollInterval = 2 * time.Second

func isSecretKey(k string) bool { return strings.HasPrefix(k, registry.SecretsPrefix) }

// keyFilePath is the encryption key file (default <data-dir>/encryption.key).
func (c *Config) keyFilePath() string {
	if c.EncryptionKeyFile != "" {
		return c.EncryptionKeyFile
	}
	return filepath.Join(c.DataDir, "encryption.key")
}

// openEncryption wraps inner so that secrets are sealed with the keys of
// the key file (created on first start unless mustExist).
func (cp *ControlPlane) openEncryption(inner store.Store, mustExist bool) error {
	path := cp.cfg.keyFilePath()
	if inside(cp.cfg.DataDir, path) {
		cp.cfg.Log.Warn("the secret encryption key is inside the data directory: a copy of the directory "+
			"(or of its disk, or of its backups) holds both the sealed secrets and the key that opens them; "+
			"keep the key elsewhere with --encryption-key-file", "key_file", path, "data_dir", cp.cfg.DataDir)
	}
	load := keyring.LoadOrCreate
	if mustExist {
		load = keyring.Read
	}
	ring, err := load(path)
	if err != nil {
		return fmt.Errorf("secret encryption key: %w", err)
	}
	enc, err := store.NewEncrypting(inner, ring, isSecretKey)
	if err != nil {
		return err
	}
	enc.SetRefresh(func() (*keyring.Keyring, error) { return keyring.Read(path) })
	cp.encrypting, cp.store = enc, enc
	cp.cfg.Log.Info("secret encryption keys loaded", "key_file", path, "primary", ring.Primary(), "keys", ring.IDs())
	return nil
}

// inside reports whether path is in dir (both made absolute).
func inside(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// watchKeyFile reads the key file every poll interval and switches to its
// keys when they changed: servers sharing an etcd share the file, and one
// of them may rotate it.
func (cp *ControlPlane) watchKeyFile(ctx context.Context) {
	path := cp.cfg.keyFilePath()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(cp.cfg.KeyFilePollInterval):
		}
		ring, err := keyring.Read(path)
		if err != nil {
			if !failing {
				cp.cfg.Log.Warn("cannot read the encryption key file; keeping the keys loaded", "key_file", path, "err", err)
			}
			failing = true
			continue
		}
		failing = false
		cur := cp.encrypting.Keyring()
		if !slices.Equal(cur.IDs(), ring.IDs()) {
			cp.encrypting.SetKeyring(ring)
			cp.cfg.Log.Info("encryption key file changed; keys reloaded", "key_file", path, "primary", ring.Primary(), "keys", ring.IDs())
		}
	}
}

// maxReencryptPasses bounds the passes over the secrets during a rotation:
// a pass finds the values other servers sealed with an old key while it ran.
const maxReencryptPasses = 3

// RotateEncryptionKey adds a new key to the key file, as the key that seals
// writes, re-encrypts every secret with it (each a compare-and-swap, so no
// concurrent write is lost), checks that no secret is sealed with another
// key, and then drops the old keys from the file. Until then the old keys
// still open what they sealed, so secrets stay readable throughout. Servers
// sharing the etcd must share the key file: they pick up the new key within
// the poll interval (the rotation waits that long before re-encrypting), or
// at once when they meet a value sealed with it. One rotation runs at a
// time across servers (an etcd lock).
func (cp *ControlPlane) RotateEncryptionKey(ctx context.Context) (api.KeyRotation, error) {
	path := cp.cfg.keyFilePath()
	unlock, err := cp.lockRotation(ctx)
	if err != nil {
		return api.KeyRotation{}, err
	}
	defer unlock()
	current, err := keyring.Read(path)
	if err != nil {
		return api.KeyRotation{}, err
	}
	key, err := keyring.NewKey(time.Now())
	if err != nil {
		return api.KeyRotation{}, err
	}
	next, err := current.WithPrimary(key)
	if err != nil {
		return api.KeyRotation{}, err
	}
	if err := keyring.Write(path, next); err != nil {
		return api.KeyRotation{}, err
	}
	cp.encrypting.SetKeyring(next)
	log := cp.cfg.Log.With("component", "key-rotation", "key_file", path, "new_key", key.ID)
	log.Info("new encryption key added; waiting for servers sharing the key file", "old_keys", current.IDs())
	select {
	case <-ctx.Done():
		return api.KeyRotation{}, ctx.Err()
	case <-time.After(2*cp.cfg.KeyFilePollInterval + time.Second):
	}
	out := api.KeyRotation{KeyID: key.ID, KeyFile: path}
	for pass := 1; ; pass++ {
		n, err := cp.encrypting.Reencrypt(ctx, registry.SecretsPrefix)
		out.Reencrypted += n
		if err != nil {
			return out, fmt.Errorf("re-encrypting secrets (the old keys stay in %s): %w", path, err)
		}
		usage, err := cp.encrypting.KeyUsage(ctx, registry.SecretsPrefix)
		if err != nil {
			return out, fmt.Errorf("checking re-encrypted secrets (the old keys stay in %s): %w", path, err)
		}
		if len(usage) == 0 || (len(usage) == 1 && usage[key.ID] > 0) {
			break
		}
		if pass == maxReencryptPasses {
			return out, fmt.Errorf("secrets are still sealed with other keys after %d passes (%v): "+
				"does every server sharing this etcd read %s? The old keys stay in it", pass, usage, path)
		}
	}
	only, err := next.Only(key.ID)
	if err != nil {
		return out, err
	}
	if err := keyring.Write(path, only); err != nil {
		return out, err
	}
	cp.encrypting.SetKeyring(only)
	out.RemovedKeyIDs = current.IDs()
	log.Info("encryption key rotated", "reencrypted", out.Reencrypted, "removed_keys", out.RemovedKeyIDs)
	return out, nil
}

// lockRotation takes the cluster-wide rotation lock (released if this
// server dies: it is bound to a lease).
func (cp *ControlPlane) lockRotation(ctx context.Context) (func(), error) {
	session, err := concurrency.NewSession(cp.etcdClient, concurrency.WithTTL(10), concurrency.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("key rotation lock: %w", err)
	}
	m := concurrency.NewMutex(session, strings.TrimRight(cp.cfg.EtcdPrefix, "/")+"/encryption/rotation")
	if err := m.Lock(ctx); err != nil {
		session.Close()
		return nil, fmt.Errorf("key rotation lock: %w", err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = m.Unlock(uctx)
		session.Close()
	}, nil
}
