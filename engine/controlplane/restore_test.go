package controlplane_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/keyring"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestRestoreRefusals: a restore needs a data directory without a member,
// the key file of the backed-up cluster (never a new one) and the embedded
// member; each refusal says what to do. The same backup given again on a
// later start is not restored twice.
func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keyFile := filepath.Join(t.TempDir(), "cluster.key")
	srcDir := t.TempDir()
	src := start(t, controlplane.Config{DataDir: srcDir, EncryptionKeyFile: keyFile})
	if _, err := clientFor(t, src).Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "pw"}}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b.backup")
	if _, err := store.SaveBackup(backup, func(w io.Writer) error { return src.Backup(ctx, w) }); err != nil {
		t.Fatal(err)
	}
	src.Close()

	otherKey := filepath.Join(t.TempDir(), "other.key")
	if _, err := keyring.LoadOrCreate(otherKey); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  controlplane.Config
		want string
	}{
		{"data dir in use", controlplane.Config{DataDir: srcDir, EncryptionKeyFile: keyFile}, "new data directory"},
		{"no key file", controlplane.Config{EncryptionKeyFile: filepath.Join(t.TempDir(), "missing.key")}, "missing.key"},
		{"default key file", controlplane.Config{}, "encryption.key"},
		{"another cluster's key", controlplane.Config{EncryptionKeyFile: otherKey}, "--encryption-key-file"},
		{"external etcd", controlplane.Config{EtcdEndpoints: []string{"http://127.0.0.1:1"}, EncryptionKeyFile: keyFile}, "etcdutl"},
		{"another prefix", controlplane.Config{EtcdPrefix: "/other", EncryptionKeyFile: keyFile}, "--etcd-prefix /maestro"},
		{"not a backup", controlplane.Config{Restore: keyFile, EncryptionKeyFile: keyFile}, "not a valid backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.DataDir == "" {
				cfg.DataDir = t.TempDir()
			}
			if cfg.Restore == "" {
				cfg.Restore = backup
			}
			cfg.Listen, cfg.ClientConfigPath, cfg.UnsafeNoFsync, cfg.Log = "127.0.0.1:0", "-", true, testenv.Logger(t)
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			cp, err := controlplane.Start(sctx, cfg)
			if err == nil {
				cp.Close()
				t.Fatal("restore started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("restore: %v, want an error saying %q", err, tt.want)
			}
			if tt.name == "no key file" {
				if _, err := os.Stat(cfg.EncryptionKeyFile); err == nil {
					t.Fatal("a restore created a new key file")
				}
				if _, err := os.Stat(filepath.Join(cfg.DataDir, "etcd")); err == nil {
					t.Fatal("a restore without its key file restored the data")
				}
			}
		})
	}

	// The right key: restored; started again with the same flag: not restored twice.
	dir := t.TempDir()
	cfg := controlplane.Config{DataDir: dir, EncryptionKeyFile: keyFile, Restore: backup}
	cp := start(t, cfg)
	c := clientFor(t, cp)
	if _, err := c.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "after-restore"}}); err != nil {
		t.Fatal(err)
	}
	cp.Close()
	cp = start(t, cfg)
	defer cp.Close()
	c = clientFor(t, cp)
	if _, err := c.ConfigMaps("default").Get(ctx, "after-restore"); err != nil {
		t.Fatalf("a second start with the same --restore restored again: %v", err)
	}
	if s, err := c.Secrets("default").Get(ctx, "db"); err != nil || string(s.Data["password"]) != "pw" {
		t.Fatalf("restored secret: %v %q", err, s.Data["password"])
	}
}
