package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Backup files
//
// A backup is a consistent snapshot of the whole etcd (every cluster prefix
// on it), with a header saying what it is:
//
//	"maestro-backup\n"
//	the header: one line of JSON (BackupHeader), ending in "\n"
//	the etcd snapshot: etcd's database, followed by the SHA-256 etcd appends to it
//	the SHA-256 of everything above (32 bytes)
//
// Secrets stay sealed in it, as they are in etcd; no encryption key and no
// certificate is in it (see ARCHITECTURE.md, "Backup and restore").

// BackupFormat is the version of the backup file layout this code writes
// and reads.
const BackupFormat = 1

const backupMagic = "maestro-backup\n"

// maxBackupHeader bounds the header line a reader accepts.
const maxBackupHeader = 64 << 10

// ErrBadBackup reports a file that is not a complete, intact backup.
var ErrBadBackup = errors.New("store: not a valid backup file")

// BackupHeader describes a backup.
type BackupHeader struct {
	Format int `json:"format"`
	// EtcdPrefix is the key prefix of the cluster that was backed up (the
	// snapshot holds every prefix of its etcd).
	EtcdPrefix string `json:"etcdPrefix"`
	// Revision is etcd's revision when the snapshot began: the snapshot
	// holds every write up to it (and possibly a few after).
	Revision int64 `json:"revision"`
	// StorageVersion is the storage version of the etcd that took it (etcd
	// 3.6 and later report it).
	StorageVersion string    `json:"storageVersion,omitempty"`
	Created        time.Time `json:"created"`
}

// BackupInfo is what checking a backup file finds.
type BackupInfo struct {
	Header BackupHeader
	// SHA256 is the file's checksum (its last 32 bytes), in hex.
	SHA256 string
	// SnapshotOffset and SnapshotSize locate the etcd snapshot in the file.
	SnapshotOffset, SnapshotSize int64
}

// WriteBackup streams a consistent snapshot of the etcd that client talks
// to, as a backup file of the cluster under prefix, to w.
func WriteBackup(ctx context.Context, client *clientv3.Client, prefix string, w io.Writer) (BackupHeader, error) {
	// etcd's snapshot stream carries no revision: read it first.
	rev, err := client.Get(ctx, prefix+"/", clientv3.WithCountOnly())
	if err != nil {
		return BackupHeader{}, fmt.Errorf("reading the current revision: %w", translate(ctx, err))
	}
	resp, err := client.SnapshotWithVersion(ctx)
	if err != nil {
		return BackupHeader{}, fmt.Errorf("taking an etcd snapshot: %w", translate(ctx, err))
	}
	defer resp.Snapshot.Close()
	h := BackupHeader{Format: BackupFormat, EtcdPrefix: prefix, Revision: rev.Header.Revision,
		StorageVersion: resp.Version, Created: time.Now().UTC()}
	line, err := json.Marshal(h)
	if err != nil {
		return BackupHeader{}, fmt.Errorf("encoding backup header: %w", err)
	}
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	if _, err := io.WriteString(out, backupMagic); err != nil {
		return BackupHeader{}, fmt.Errorf("writing backup: %w", err)
	}
	if _, err := out.Write(append(line, '\n')); err != nil {
		return BackupHeader{}, fmt.Errorf("writing backup: %w", err)
	}
	if _, err := io.Copy(out, resp.Snapshot); err != nil {
		return BackupHeader{}, fmt.Errorf("copying the etcd snapshot: %w", translate(ctx, err))
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return BackupHeader{}, fmt.Errorf("writing backup: %w", err)
	}
	return h, nil
}

// VerifyBackup reads a whole backup file and checks its layout, its
// checksum and the checksum etcd put on the snapshot inside.
func VerifyBackup(path string) (BackupInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("reading backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return BackupInfo{}, fmt.Errorf("reading backup: %w", err)
	}
	info, err := verifyBackup(f, fi.Size())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	return info, nil
}

// verifyBackup checks the backup of size bytes that r reads: it is pure
// but for reading r, so the fuzz tests run exactly what VerifyBackup runs.
func verifyBackup(r io.ReaderAt, size int64) (BackupInfo, error) {
	bad := func(format string, args ...any) (BackupInfo, error) {
		return BackupInfo{}, fmt.Errorf("%w: %s", ErrBadBackup, fmt.Sprintf(format, args...))
	}
	sum := sha256.New()
	br := bufio.NewReader(io.TeeReader(io.NewSectionReader(r, 0, max(size-sha256.Size, 0)), sum))
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return bad("it does not start with %q", backupMagic[:len(backupMagic)-1])
	}
	line, err := br.ReadSlice('\n')
	if err != nil || len(line) > maxBackupHeader {
		return bad("no header line")
	}
	var info BackupInfo
	if err := json.Unmarshal(line, &info.Header); err != nil {
		return bad("header: %v", err)
	}
	if info.Header.Format != BackupFormat {
		return bad("format %d; this maestro reads format %d", info.Header.Format, BackupFormat)
	}
	info.SnapshotOffset = int64(len(backupMagic) + len(line))
	info.SnapshotSize = size - sha256.Size - info.SnapshotOffset
	if info.SnapshotSize <= sha256.Size {
		return bad("it is cut short (%d bytes)", size)
	}
	inner, err := snapshotChecksum(br, info.SnapshotSize)
	if err != nil {
		return bad("%v", err)
	}
	if !inner {
		return bad("the etcd snapshot's own checksum does not match")
	}
	want := make([]byte, sha256.Size)
	if _, err := r.ReadAt(want, size-sha256.Size); err != nil {
		return bad("reading its checksum: %v", err)
	}
	if got := sum.Sum(nil); !bytes.Equal(got, want) {
		return bad("checksum mismatch (the file is damaged or incomplete)")
	}
	info.SHA256 = hex.EncodeToString(want)
	return info, nil
}

// snapshotChecksum reads an etcd snapshot of size bytes and reports
// whether its last 32 bytes are the SHA-256 of the rest, as etcd writes it.
func snapshotChecksum(r io.Reader, size int64) (bool, error) {
	h := sha256.New()
	if _, err := io.CopyN(h, r, size-sha256.Size); err != nil {
		return false, fmt.Errorf("reading the etcd snapshot: %w", err)
	}
	trailer := make([]byte, sha256.Size)
	if _, err := io.ReadFull(r, trailer); err != nil {
		return false, fmt.Errorf("reading the etcd snapshot: %w", err)
	}
	return bytes.Equal(h.Sum(nil), trailer), nil
}

// SaveBackup writes a backup file at path atomically: write fills a
// temporary file in the same directory, which is synced and verified, then
// renamed into place, so path is never a partial backup.
func SaveBackup(path string, write func(w io.Writer) error) (BackupInfo, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(buf); err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	if err := buf.Flush(); err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	info, err := VerifyBackup(tmp.Name())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return BackupInfo{}, fmt.Errorf("writing backup %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(dir); err == nil { // the new name, durable; best effort
		_ = d.Sync()
		d.Close()
	}
	return info, nil
}

// ExtractSnapshot verifies a backup and copies the etcd snapshot in it to
// dst (a new file), the input of `etcdutl snapshot restore`.
func ExtractSnapshot(path, dst string) (BackupInfo, error) {
	info, err := VerifyBackup(path)
	if err != nil {
		return BackupInfo{}, err
	}
	src, err := os.Open(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("reading backup: %w", err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("extracting the etcd snapshot: %w", err)
	}
	_, err = io.Copy(out, io.NewSectionReader(src, info.SnapshotOffset, info.SnapshotSize))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return BackupInfo{}, fmt.Errorf("extracting the etcd snapshot to %s: %w", dst, err)
	}
	return info, nil
}
