package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
)

// Restore
//
// A backup holds etcd only: secrets stay sealed in it, and neither the
// encryption key nor the cluster CA travels with it (a backup copied
// off-site must not carry what opens the secrets or mints credentials).
// Restoring therefore needs, beside the backup file, the key file of the
// backed-up cluster (--encryption-key-file; never created on a restore)
// and, to keep agents and client configs working, its pki directory copied
// into the new data directory.

// restore restores cfg.Restore into the embedded member's directory before
// the member starts.
func (cp *ControlPlane) restore() error {
	cfg := cp.cfg
	if _, err := keyring.Read(cfg.keyFilePath()); err != nil {
		return fmt.Errorf("a restore needs the key file of the backed-up cluster (--encryption-key-file): %w", err)
	}
	res, err := store.RestoreEmbedded(cfg.Restore, filepath.Join(cfg.DataDir, "etcd"), cfg.EtcdPrefix, cfg.Log)
	if err != nil {
		return err
	}
	h := res.Info.Header
	if res.AlreadyRestored {
		cfg.Log.Info("data directory already restored from this backup; starting normally", "backup", cfg.Restore)
		return nil
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "pki")); errors.Is(err, fs.ErrNotExist) {
		cfg.Log.Warn("restoring without the backed-up cluster's pki directory: a new CA is made, which the cluster's "+
			"agents and client configs do not trust; copy <old-data-dir>/pki into the data directory to keep them",
			"data_dir", cfg.DataDir)
	}
	cfg.Log.Info("restored etcd from backup", "backup", cfg.Restore, "revision", h.Revision, "taken", h.Created,
		"sha256", res.Info.SHA256)
	return nil
}

// checkRestoredSecrets opens every restored secret with the key file's
// keys, so a missing or wrong key fails the start, naming the file, rather
// than the first read of a secret.
func (cp *ControlPlane) checkRestoredSecrets(ctx context.Context) error {
	if _, err := cp.encrypting.KeyUsage(ctx, registry.SecretsPrefix); err != nil {
		return fmt.Errorf("the restored secrets do not open with the keys in %s (pass the key file of the backed-up cluster with --encryption-key-file): %w",
			cp.cfg.keyFilePath(), err)
	}
	return nil
}
