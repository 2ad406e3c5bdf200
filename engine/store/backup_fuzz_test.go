package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

// assembleBackup lays out a backup file around header (the JSON line,
// without its newline) and an etcd snapshot body, with both checksums
// right, so a fuzzer mutating the parts reaches past the checksums.
func assembleBackup(header, body []byte) []byte {
	inner := sha256.Sum256(body)
	var b bytes.Buffer
	b.WriteString(backupMagic)
	b.Write(header)
	b.WriteByte('\n')
	b.Write(body)
	b.Write(inner[:])
	outer := sha256.Sum256(b.Bytes())
	b.Write(outer[:])
	return b.Bytes()
}

// FuzzVerifyBackup feeds verifyBackup (what VerifyBackup and a restore
// run on a backup file) both raw files and files assembled with valid
// checksums around a fuzzed header and snapshot. It never panics; every
// refusal is ErrBadBackup; an accepted file is format 1, its snapshot
// section lies inside the file and is exactly the snapshot (with etcd's
// checksum), and its SHA256 is the file's last 32 bytes.
func FuzzVerifyBackup(f *testing.F) {
	header := []byte(`{"format":1,"etcdPrefix":"/maestro","revision":42,"storageVersion":"3.6.0","created":"2026-01-02T03:04:05Z"}`)
	for _, seed := range []struct {
		header, body string
		raw          bool
	}{
		{string(header), "etcd snapshot bytes", false},
		{`{"format":2}`, "x", false},
		{`{"format":1,"format":1}`, "", false},
		{`{"format":1}`, "a", false},
		{`{"format":"1"}`, "abc", false},
		{`null`, "abc", false},
		{string(assembleBackup(header, []byte("etcd snapshot bytes"))), "", true},
		{"maestro-backup\n", "", true},
		{"hello", "", true},
	} {
		f.Add([]byte(seed.header), []byte(seed.body), seed.raw)
	}
	f.Fuzz(func(t *testing.T, header, body []byte, raw bool) {
		file := append(bytes.Clone(header), body...)
		if !raw {
			file = assembleBackup(header, body)
		}
		info, err := verifyBackup(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			if !errors.Is(err, ErrBadBackup) {
				t.Fatalf("refused without ErrBadBackup: %v", err)
			}
			return
		}
		size := int64(len(file))
		if info.Header.Format != BackupFormat {
			t.Fatalf("accepted format %d", info.Header.Format)
		}
		if info.SnapshotOffset < int64(len(backupMagic)) || info.SnapshotSize <= sha256.Size ||
			info.SnapshotOffset+info.SnapshotSize+sha256.Size != size {
			t.Fatalf("snapshot at %d+%d in a file of %d bytes", info.SnapshotOffset, info.SnapshotSize, size)
		}
		if info.SHA256 != hex.EncodeToString(file[size-sha256.Size:]) {
			t.Fatalf("SHA256 %s is not the file's last 32 bytes", info.SHA256)
		}
		if !raw && !bytes.Contains(header, []byte("\n")) {
			snap := file[info.SnapshotOffset : info.SnapshotOffset+info.SnapshotSize]
			if !bytes.Equal(snap[:len(snap)-sha256.Size], body) {
				t.Fatalf("the snapshot section is not the snapshot")
			}
		}
	})
}
