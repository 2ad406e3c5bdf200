package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
)

// TestBackupRoundTrip backs an embedded member up, checks the file, and
// restores it into a new member: every key keeps its value and revisions,
// later changes are gone, and the current revision is moved far ahead and
// marked compacted so watchers of newer revisions relist.
func TestBackupRoundTrip(t *testing.T) {
	m := startEmbedded(t)
	ctx := t.Context()
	s := store.NewEtcd(m.Client(), "/bk")
	for i := range 20 {
		if _, err := s.Create(ctx, fmt.Sprintf("/things/%02d", i), []byte(fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	before, rev, err := s.List(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.backup")
	info, err := store.SaveBackup(path, func(w io.Writer) error {
		_, err := store.WriteBackup(ctx, m.Client(), "/bk", w)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.Header.EtcdPrefix != "/bk" || info.Header.Revision != rev || info.Header.Format != store.BackupFormat {
		t.Fatalf("backup header %+v (revision before it %d)", info.Header, rev)
	}
	if _, err := s.Create(ctx, "/things/after", []byte("x")); err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	memberDir := filepath.Join(dataDir, "etcd")
	if _, err := store.RestoreEmbedded(path, memberDir, "/other", nil); err == nil || !strings.Contains(err.Error(), `"/bk"`) {
		t.Fatalf("restore under another prefix: %v, want an error naming the backup's prefix", err)
	}
	res, err := store.RestoreEmbedded(path, memberDir, "/bk", nil)
	if err != nil || res.AlreadyRestored {
		t.Fatalf("restore: %+v %v", res, err)
	}
	// Again with the same backup: recognised, nothing done.
	if res, err := store.RestoreEmbedded(path, memberDir, "/bk", nil); err != nil || !res.AlreadyRestored {
		t.Fatalf("second restore of the same backup: %+v %v", res, err)
	}
	restored, err := store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: memberDir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	rs := store.NewEtcd(restored.Client(), "/bk")
	after, head, err := rs.List(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("restored %d keys, backed up %d", len(after), len(before))
	}
	for i := range before {
		if before[i].Key != after[i].Key || !bytes.Equal(before[i].Value, after[i].Value) ||
			before[i].ModRevision != after[i].ModRevision || before[i].CreateRevision != after[i].CreateRevision {
			t.Fatalf("restored %+v, backed up %+v", after[i], before[i])
		}
	}
	if head < info.Header.Revision+store.RestoreRevisionBump {
		t.Fatalf("restored head revision %d, want at least %d", head, info.Header.Revision+store.RestoreRevisionBump)
	}
	if _, err := rs.Watch(ctx, "/", info.Header.Revision+1); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch from a revision after the backup: %v, want ErrCompacted", err)
	}
	if _, err := rs.Create(ctx, "/things/new", []byte("n")); err != nil {
		t.Fatalf("write after restore: %v", err)
	}

	// Any other non-empty member directory is refused.
	other := filepath.Join(t.TempDir(), "etcd")
	if err := os.MkdirAll(filepath.Join(other, "member"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RestoreEmbedded(path, other, "/bk", nil); !errors.Is(err, store.ErrRestoreTarget) {
		t.Fatalf("restore into a used directory: %v, want ErrRestoreTarget", err)
	}
}

// TestVerifyBackupRejectsDamage: a flipped byte anywhere, a cut, or another
// file is refused, naming the file.
func TestVerifyBackupRejectsDamage(t *testing.T) {
	m := startEmbedded(t)
	var buf bytes.Buffer
	if _, err := store.WriteBackup(t.Context(), m.Client(), "/maestro", &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	header := bytes.IndexByte(good[len("maestro-backup\n"):], '\n') + len("maestro-backup\n")
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	cases := map[string][]byte{
		"flipped magic":    flip(0),
		"flipped header":   flip(header - 3),
		"flipped snapshot": flip(header + 100),
		"flipped checksum": flip(len(good) - 1),
		"cut short":        good[:len(good)-1000],
		"header only":      good[:header+1],
		"empty":            nil,
		"another file":     []byte("hello"),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.backup")
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := store.VerifyBackup(p); !errors.Is(err, store.ErrBadBackup) || !strings.Contains(err.Error(), p) {
				t.Fatalf("VerifyBackup: %v, want ErrBadBackup naming %s", err, p)
			}
		})
	}
	// SaveBackup never leaves a damaged file under the name asked for.
	dir := t.TempDir()
	target := filepath.Join(dir, "b.backup")
	_, err := store.SaveBackup(target, func(w io.Writer) error { _, err := w.Write(good[:len(good)-10]); return err })
	if !errors.Is(err, store.ErrBadBackup) {
		t.Fatalf("SaveBackup of a cut stream: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("SaveBackup left %v behind", entries)
	}
	_, err = store.SaveBackup(target, func(w io.Writer) error { return context.Canceled })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveBackup of a failed stream: %v", err)
	}
}
