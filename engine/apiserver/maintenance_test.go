package apiserver_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestMaintenanceIsAdminOnly: backups and key rotation are for admins; a
// backup through the API is a complete, verifiable file.
func TestMaintenanceIsAdminOnly(t *testing.T) {
	env := testenv.Start(t)
	raw := newRaw(t, env)
	for _, role := range []string{"viewer", "node", "join"} {
		node := ""
		if role == "node" {
			node = "n1"
		}
		c := env.ClientAs(t, role, node)
		if err := c.Backup(ctxT(t), io.Discard); err == nil || !strings.Contains(err.Error(), "admin only") {
			t.Errorf("backup as %s: %v, want 403 admin only", role, err)
		}
		if _, err := c.RotateEncryptionKey(ctxT(t)); err == nil || !strings.Contains(err.Error(), "admin only") {
			t.Errorf("rotate-key as %s: %v, want 403 admin only", role, err)
		}
	}
	if r := raw.do(t, http.MethodGet, "/v1/backup", "", "", nil); r.Code != http.StatusUnauthorized {
		t.Errorf("backup without a token: %d", r.Code)
	}
	path := filepath.Join(t.TempDir(), "b.backup")
	info, err := store.SaveBackup(path, func(w io.Writer) error { return env.Client.Backup(ctxT(t), w) })
	if err != nil || info.Header.EtcdPrefix != "/maestro" {
		t.Fatalf("backup as admin: %+v %v", info, err)
	}
	var buf bytes.Buffer
	if err := env.Client.Backup(ctxT(t), &buf); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("maestro-backup\n")) {
		t.Fatalf("streamed backup: %v %q", err, buf.Bytes()[:min(20, buf.Len())])
	}
}
