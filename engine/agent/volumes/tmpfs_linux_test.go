//go:build linux

package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// mountsAt counts the mounts whose mount point is dir, and returns the
// file system type of the last (the visible one).
func mountsAt(t *testing.T, dir string) (n int, fstype string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 10 || fields[4] != dir {
			continue
		}
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) {
				n, fstype = n+1, fields[i+1]
			}
		}
	}
	return n, fstype
}

func requireRoot(t *testing.T) {
	t.Helper()
	testreq.Root(t, "tmpfs mounts")
}

func TestMemoryEmptyDirOnTmpfs(t *testing.T) {
	requireRoot(t)
	e := newEnv(t)
	limit := resource.MustParse("4Mi")
	pod := testPod("uid-1", []api.Volume{{Name: "cache", VolumeSource: api.VolumeSource{
		EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: &limit}}}})
	if _, err := e.setup(t, pod); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil { // mounts nothing twice
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "emptydir", "cache")
	if n, fstype := mountsAt(t, dir); n != 1 || fstype != "tmpfs" {
		t.Fatalf("%d mounts (%s) on the emptyDir, want one tmpfs", n, fstype)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if size := int64(st.Blocks) * st.Bsize; size != 4<<20 {
		t.Fatalf("tmpfs size %d, want %d", size, 4<<20)
	}
	if got := mode(t, dir); got != 0o777 {
		t.Fatalf("tmpfs mode %o, want 777", got)
	}

	if err := e.m.Cleanup("uid-1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := mountsAt(t, dir); n != 0 {
		t.Fatal("tmpfs still mounted after Cleanup")
	}
}

func TestSecretOnTmpfs(t *testing.T) {
	requireRoot(t)
	e := newEnv(t)
	e.src.setSecret("creds", map[string][]byte{"password": []byte("hunter2")})
	pod := testPod("uid-1", []api.Volume{{Name: "creds", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{
		SecretName: "creds", DefaultMode: api.Ptr[int32](0o644)}}}})
	if _, err := e.setup(t, pod); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "secret", "creds")
	if n, fstype := mountsAt(t, dir); n != 1 || fstype != "tmpfs" {
		t.Fatalf("%d mounts (%s) on the secret volume, want one tmpfs", n, fstype)
	}
	if readFile(t, filepath.Join(dir, "password")) != "hunter2" {
		t.Fatal("wrong content")
	}
	if got := mode(t, filepath.Join(dir, "password")); got != 0o644 {
		t.Fatalf("mode %o, want the defaultMode 644", got)
	}
	// An update goes to the same tmpfs.
	e.src.setSecret("creds", map[string][]byte{"password": []byte("correct horse")})
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := mountsAt(t, dir); n != 1 || readFile(t, filepath.Join(dir, "password")) != "correct horse" {
		t.Fatal("update not applied in place")
	}
	if err := e.m.Cleanup("uid-1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := mountsAt(t, dir); n != 0 {
		t.Fatal("tmpfs still mounted after Cleanup")
	}
}

func TestCleanupKeepsBusyTmpfsContent(t *testing.T) {
	requireRoot(t)
	e := newEnv(t)
	pod := testPod("uid-1", []api.Volume{{Name: "cache", VolumeSource: api.VolumeSource{
		EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory"}}}})
	if _, err := e.setup(t, pod); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "emptydir", "cache")
	f, err := os.Create(filepath.Join(dir, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A busy tmpfs is detached: Cleanup still succeeds and the open file
	// stays usable until closed.
	if err := e.m.Cleanup("uid-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("still here"); err != nil {
		t.Fatalf("open file broken by Cleanup: %v", err)
	}
	if n, _ := mountsAt(t, dir); n != 0 {
		t.Fatal("tmpfs still mounted after Cleanup")
	}
}
