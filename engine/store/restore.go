package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap/zapcore"
)

// RestoreRevisionBump is how far a restore moves etcd's current revision
// past the backup's, marking everything before it compacted. Every key
// keeps its revisions (objects keep their resourceVersions); a client that
// saw revisions written after the backup was taken and watches from one of
// them gets "compacted" and lists again, instead of silently missing the
// changes the restore undid or reusing their revision numbers.
const RestoreRevisionBump = 1_000_000_000

// restoreMarker, in the member's data directory's parent, records which
// backup the member was restored from.
const restoreMarker = "restored-from.json"

// ErrRestoreTarget reports a data directory that already holds a member.
var ErrRestoreTarget = errors.New("store: restore target already holds etcd data")

// RestoreResult says what RestoreEmbedded did.
type RestoreResult struct {
	Info BackupInfo
	// AlreadyRestored: memberDir already held this very backup, restored
	// by an earlier start; nothing was done.
	AlreadyRestored bool
}

type restoreRecord struct {
	Backup   string    `json:"backup"`
	SHA256   string    `json:"sha256"`
	Revision int64     `json:"revision"`
	Restored time.Time `json:"restored"`
}

// RestoreEmbedded restores the backup at path, of the cluster under prefix,
// as the data of a new single-member etcd in memberDir (StartEmbedded's
// Dir), which must not exist or be empty. The restore is recorded beside memberDir, so that
// calling it again with the same backup (a server restarted with the same
// --restore) reports AlreadyRestored instead of failing; any other
// non-empty memberDir is refused with ErrRestoreTarget.
func RestoreEmbedded(path, memberDir, prefix string, log *slog.Logger) (RestoreResult, error) {
	info, err := VerifyBackup(path)
	if err != nil {
		return RestoreResult{}, err
	}
	if got, want := strings.TrimRight(info.Header.EtcdPrefix, "/"), strings.TrimRight(prefix, "/"); got != want {
		return RestoreResult{}, fmt.Errorf("restoring %s: it is a backup of the cluster under etcd prefix %q, not %q: pass --etcd-prefix %s",
			path, info.Header.EtcdPrefix, prefix, info.Header.EtcdPrefix)
	}
	marker := filepath.Join(filepath.Dir(memberDir), restoreMarker)
	if !dirEmpty(memberDir) {
		var rec restoreRecord
		if b, err := os.ReadFile(marker); err == nil && json.Unmarshal(b, &rec) == nil && rec.SHA256 == info.SHA256 {
			return RestoreResult{Info: info, AlreadyRestored: true}, nil
		}
		return RestoreResult{}, fmt.Errorf("restoring into %s: %w: restore into a new data directory", memberDir, ErrRestoreTarget)
	}
	if err := os.RemoveAll(memberDir); err != nil {
		return RestoreResult{}, fmt.Errorf("restoring into %s: %w", memberDir, err)
	}
	if err := os.MkdirAll(filepath.Dir(memberDir), 0o700); err != nil {
		return RestoreResult{}, fmt.Errorf("restoring into %s: %w", memberDir, err)
	}
	db := filepath.Join(filepath.Dir(memberDir), fmt.Sprintf(".restore-%d.db", time.Now().UnixNano()))
	if _, err := ExtractSnapshot(path, db); err != nil {
		return RestoreResult{}, err
	}
	defer os.Remove(db)
	// The peer URL is only the restored membership's: the member is
	// started on whatever loopback ports StartEmbedded picks, as on any
	// restart.
	peer := "http://127.0.0.1:2380"
	err = snapshot.NewV3(newZapLogger(log, zapcore.WarnLevel, nil)).Restore(snapshot.RestoreConfig{
		SnapshotPath:        db,
		Name:                embeddedName,
		OutputDataDir:       memberDir,
		PeerURLs:            []string{peer},
		InitialCluster:      embeddedName + "=" + peer,
		InitialClusterToken: "etcd-cluster",
		RevisionBump:        RestoreRevisionBump,
		MarkCompacted:       true,
	})
	if err != nil {
		os.RemoveAll(memberDir)
		return RestoreResult{}, fmt.Errorf("restoring %s into %s: %w", path, memberDir, err)
	}
	rec, _ := json.MarshalIndent(restoreRecord{Backup: path, SHA256: info.SHA256, Revision: info.Header.Revision,
		Restored: time.Now().UTC()}, "", "  ")
	if err := os.WriteFile(marker, append(rec, '\n'), 0o600); err != nil {
		return RestoreResult{}, fmt.Errorf("recording the restore: %w", err)
	}
	return RestoreResult{Info: info}, nil
}

// dirEmpty reports whether dir is missing or has no entries.
func dirEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	return err == nil && len(entries) == 0
}
