package controlplane

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestPruneBackups: only backup files count and go, oldest first; the
// newest retain stay; nothing else in the directory is touched.
func TestPruneBackups(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	b := func(d time.Duration) string { return backupName(t0.Add(d)) }
	others := []string{"notes.txt", "maestro-garbage.backup", "." + b(9*time.Hour) + ".123.tmp", "maestro-20250601T120000Z.backup"}
	tests := []struct {
		name    string
		backups []string
		retain  int
		kept    []string
	}{
		{"fewer than retain", []string{b(0), b(time.Hour)}, 3, []string{b(0), b(time.Hour)}},
		{"exactly retain", []string{b(0), b(time.Hour)}, 2, []string{b(0), b(time.Hour)}},
		{"oldest go", []string{b(2 * time.Hour), b(0), b(time.Millisecond), b(time.Hour)}, 2, []string{b(time.Hour), b(2 * time.Hour)}},
		{"keep one", []string{b(0), b(time.Minute), b(time.Hour)}, 1, []string{b(time.Hour)}},
		{"across days", []string{b(-48 * time.Hour), b(0), b(24 * time.Hour)}, 2, []string{b(0), b(24 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range append(slices.Clone(tt.backups), others...) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Mkdir(filepath.Join(dir, b(-time.Hour)), 0o700); err != nil { // a directory named like one
				t.Fatal(err)
			}
			removed, err := pruneBackups(dir, tt.retain)
			if err != nil {
				t.Fatal(err)
			}
			got, err := listBackups(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.kept) {
				t.Fatalf("kept %v, want %v (removed %v)", got, tt.kept, removed)
			}
			if len(removed)+len(tt.kept) != len(tt.backups) {
				t.Fatalf("removed %v", removed)
			}
			for _, name := range append(others, b(-time.Hour)) {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("%s was touched: %v", name, err)
				}
			}
		})
	}
}

func TestBackupNames(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 30, 5, 123456789, time.FixedZone("x", 3600))
	name := backupName(at)
	if name != "maestro-20250601T113005.123Z.backup" {
		t.Fatalf("backupName = %q", name)
	}
	if got, ok := backupTime(name); !ok || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("backupTime(%q) = %v %v", name, got, ok)
	}
	for _, bad := range []string{"maestro-.backup", "maestro-20250601T113005Z.backup", "x-20250601T113005.123Z.backup", "maestro-20250601T113005.123Z.backup.tmp"} {
		if _, ok := backupTime(bad); ok {
			t.Errorf("backupTime accepted %q", bad)
		}
	}
}
