package controlplane_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/store"
)

// TestBackupRetention runs periodic backups on a short interval: backups
// keep coming, each a complete backup of the cluster, and only the newest
// BackupRetain are kept; other files in the directory stay.
func TestBackupRetention(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "README")
	if err := os.WriteFile(mine, []byte("backups of the test cluster"), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := start(t, controlplane.Config{DataDir: t.TempDir(), BackupInterval: 200 * time.Millisecond, BackupRetain: 2, BackupDir: dir})
	defer cp.Close()
	if _, err := clientFor(t, cp).ConfigMaps("default").Create(t.Context(), &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		names := backupFiles(t, dir)
		for _, n := range names {
			seen[n] = true
		}
		if len(names) > 3 { // 2, and a new one for the moment before the oldest goes
			t.Fatalf("%d backups kept, want at most 2: %v", len(names), names)
		}
		if len(seen) >= 5 && len(names) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d backups within 30s, want 5", len(seen))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cp.Close()
	names := backupFiles(t, dir)
	if len(names) != 2 {
		t.Fatalf("after stop: %v, want the 2 newest", names)
	}
	all := slices.Sorted(maps.Keys(seen))
	if names[1] < all[len(all)-1] { // names sort by time
		t.Fatalf("kept %v, but a newer backup %s was seen", names, all[len(all)-1])
	}
	for _, n := range names {
		info, err := store.VerifyBackup(filepath.Join(dir, n))
		if err != nil || info.Header.EtcdPrefix != controlplane.DefaultEtcdPrefix {
			t.Fatalf("kept backup %s: %+v %v", n, info.Header, err)
		}
	}
	if b, err := os.ReadFile(mine); err != nil || !strings.Contains(string(b), "test cluster") {
		t.Fatalf("a file of the user's in the backup directory was touched: %v", err)
	}
}

// backupFiles lists the finished backups in dir (not temporary files).
func backupFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "maestro-") && strings.HasSuffix(e.Name(), ".backup") {
			out = append(out, e.Name())
		}
	}
	return out
}
