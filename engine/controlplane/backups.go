package controlplane

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

// DefaultBackupRetain is how many periodic backups are kept.
const DefaultBackupRetain = 5

// Periodic backups are taken by the leader only: etcd holds one copy of
// the cluster, so one snapshot per interval is enough, and the leader is
// the one server sure to be running and connected to etcd. A new leader
// goes on from the newest backup in its directory (the next is due an
// interval after it). Backups are files named by the time they were taken
// (backupName), written atomically (store.SaveBackup); after each, all but
// the newest BackupRetain of those files are removed, and nothing else in
// the directory is touched.

const (
	backupPrefix     = "maestro-"
	backupSuffix     = ".backup"
	backupTimeLayout = "20060102T150405.000Z"
)

// backupName is the file name of a backup taken at t; names sort by time.
func backupName(t time.Time) string {
	return backupPrefix + t.UTC().Format(backupTimeLayout) + backupSuffix
}

// backupTime parses a backupName, reporting false for any other name.
func backupTime(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, backupPrefix)
	if !ok {
		return time.Time{}, false
	}
	if s, ok = strings.CutSuffix(s, backupSuffix); !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(backupTimeLayout, s)
	return t, err == nil
}

// Backup writes a backup of the cluster's etcd to w (GET /v1/backup).
func (cp *ControlPlane) Backup(ctx context.Context, w io.Writer) error {
	_, err := store.WriteBackup(ctx, cp.etcdClient, cp.cfg.EtcdPrefix, w)
	return err
}

// runBackups takes a backup every BackupInterval until ctx ends.
func (cp *ControlPlane) runBackups(ctx context.Context) {
	dir, interval := cp.cfg.BackupDir, cp.cfg.BackupInterval
	log := cp.cfg.Log.With("component", "backups", "dir", dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		log.Error("cannot create the backup directory; no periodic backups", "err", err)
		return
	}
	next := time.Now()
	if names, err := listBackups(dir); err == nil && len(names) > 0 {
		last, _ := backupTime(names[len(names)-1])
		next = last.Add(interval)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		path := filepath.Join(dir, backupName(time.Now()))
		info, err := store.SaveBackup(path, func(w io.Writer) error { return cp.Backup(ctx, w) })
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("periodic backup failed", "err", err)
			next = time.Now().Add(min(interval, time.Minute))
			continue
		}
		removed, err := pruneBackups(dir, cp.cfg.BackupRetain)
		if err != nil {
			log.Warn("removing old backups failed", "err", err)
		}
		log.Info("backup written", "file", path, "revision", info.Header.Revision, "removed", removed)
		next = time.Now().Add(interval)
	}
}

// listBackups returns the names of the backup files in dir, oldest first.
func listBackups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, ok := backupTime(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// pruneBackups removes all but the newest retain backup files of dir and
// returns the names it removed.
func pruneBackups(dir string, retain int) ([]string, error) {
	names, err := listBackups(dir)
	if err != nil {
		return nil, fmt.Errorf("listing backups in %s: %w", dir, err)
	}
	if len(names) <= retain {
		return nil, nil
	}
	var removed []string
	for _, name := range names[:len(names)-retain] {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return removed, fmt.Errorf("removing old backup: %w", err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}
