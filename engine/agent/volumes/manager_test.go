package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

func TestEmptyDir(t *testing.T) {
	e := newEnv(t)
	pod := testPod("uid-1", []api.Volume{{Name: "scratch", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}},
		api.VolumeMount{Name: "scratch", MountPath: "/scratch"})
	mounts, err := e.setup(t, pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "emptydir", "scratch")
	want := map[string][]runtime.Mount{"app": {{HostPath: dir, ContainerPath: "/scratch"}}}
	if !equalMounts(mounts, want) {
		t.Fatalf("mounts = %+v, want %+v", mounts, want)
	}
	if got := mode(t, dir); got != 0o777 {
		t.Fatalf("emptyDir mode = %o, want 777", got)
	}
	// Content survives a second Setup (a container restart).
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(dir, "f")) != "x" {
		t.Fatal("second Setup lost emptyDir content")
	}
}

func TestMemoryEmptyDirWithoutRoot(t *testing.T) {
	e := newEnv(t)
	e.m.mountable = false
	pod := testPod("uid-1", []api.Volume{{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory"}}}})
	if _, err := e.setup(t, pod); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.logs.String(), "memory emptyDir is on disk"); n != 1 {
		t.Fatalf("%d warnings logged over two Setups, want 1: %s", n, e.logs)
	}
}

func TestHostPath(t *testing.T) {
	host := t.TempDir()
	mustWrite(t, filepath.Join(host, "file"), "x", 0o644)
	mustMkdir(t, filepath.Join(host, "dir"))
	tests := []struct {
		name, path, typ string
		err             string // substring; "" = success
		isDir, isFile   bool   // what exists after Setup
	}{
		{name: "unset type checks nothing", path: "missing", typ: ""},
		{name: "DirectoryOrCreate creates", path: "new/nested", typ: "DirectoryOrCreate", isDir: true},
		{name: "DirectoryOrCreate existing", path: "dir", typ: "DirectoryOrCreate", isDir: true},
		{name: "DirectoryOrCreate on a file", path: "file", typ: "DirectoryOrCreate", err: "is not a directory"},
		{name: "Directory exists", path: "dir", typ: "Directory", isDir: true},
		{name: "Directory missing", path: "missing", typ: "Directory", err: "does not exist"},
		{name: "Directory on a file", path: "file", typ: "Directory", err: "is not a directory"},
		{name: "FileOrCreate creates", path: "newfile", typ: "FileOrCreate", isFile: true},
		{name: "FileOrCreate existing", path: "file", typ: "FileOrCreate", isFile: true},
		{name: "FileOrCreate without parent", path: "nodir/f", typ: "FileOrCreate", err: "no such file"},
		{name: "FileOrCreate on a dir", path: "dir", typ: "FileOrCreate", err: "is a directory"},
		{name: "File exists", path: "file", typ: "File", isFile: true},
		{name: "File missing", path: "missing", typ: "File", err: "does not exist"},
		{name: "File on a dir", path: "dir", typ: "File", err: "is a directory"},
		{name: "unknown type", path: "dir", typ: "Socket", err: "not supported"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := filepath.Join(host, tc.path)
			pod := testPod(fmt.Sprintf("uid-%d", i), []api.Volume{{Name: "host", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: p, Type: tc.typ}}}},
				api.VolumeMount{Name: "host", MountPath: "/host", ReadOnly: true})
			mounts, err := e.setup(t, pod)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `volume "host"`) {
					t.Fatalf("err = %v, want one naming the volume and saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]runtime.Mount{"app": {{HostPath: p, ContainerPath: "/host", ReadOnly: true}}}
			if !equalMounts(mounts, want) {
				t.Fatalf("mounts = %+v, want %+v", mounts, want)
			}
			info, err := os.Stat(p)
			if (tc.isDir || tc.isFile) && (err != nil || info.IsDir() != tc.isDir) {
				t.Fatalf("after Setup: %v %v, want dir=%v file=%v", info, err, tc.isDir, tc.isFile)
			}
		})
	}
}

func TestConfigMap(t *testing.T) {
	e := newEnv(t)
	e.src.setConfigMap("settings", map[string]string{"app.conf": "a=1", "log.conf": "level=info"})
	e.src.configMaps["settings"].BinaryData = map[string][]byte{"blob": {0, 1, 2}}
	vols := []api.Volume{
		{Name: "all", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "settings", DefaultMode: api.Ptr[int32](0o640)}}},
		{Name: "some", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "settings", Items: []api.KeyToPath{
			{Key: "app.conf", Path: "conf/app.conf"},
			{Key: "log.conf", Path: "log", Mode: api.Ptr[int32](0o600)},
		}}}},
		{Name: "absent", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "nope", Optional: api.Ptr(true)}}},
		{Name: "absent-key", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "settings", Optional: api.Ptr(true),
			Items: []api.KeyToPath{{Key: "missing", Path: "m"}, {Key: "app.conf", Path: "app"}}}}},
	}
	pod := testPod("uid-1", vols,
		api.VolumeMount{Name: "all", MountPath: "/etc/all"},
		api.VolumeMount{Name: "some", MountPath: "/etc/app.conf", SubPath: "conf/app.conf"},
	)
	mounts, err := e.setup(t, pod)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(e.root, "uid-1", "volumes", "configmap")
	all := filepath.Join(base, "all")
	if got := listDir(t, all); got != "..<version> ..data app.conf blob log.conf" {
		t.Fatalf("all: %s", got)
	}
	if link, _ := os.Readlink(filepath.Join(all, "app.conf")); link != "..data/app.conf" {
		t.Fatalf("app.conf -> %q, want ..data/app.conf", link)
	}
	if readFile(t, filepath.Join(all, "app.conf")) != "a=1" || readFile(t, filepath.Join(all, "blob")) != "\x00\x01\x02" {
		t.Fatal("wrong content")
	}
	if got := mode(t, filepath.Join(all, "log.conf")); got != 0o640 {
		t.Fatalf("defaultMode: %o", got)
	}

	some := filepath.Join(base, "some")
	if got := listDir(t, some); got != "..<version> ..data conf log" {
		t.Fatalf("some: %s", got)
	}
	if readFile(t, filepath.Join(some, "conf", "app.conf")) != "a=1" {
		t.Fatal("item path not honoured")
	}
	if got := mode(t, filepath.Join(some, "log")); got != 0o600 {
		t.Fatalf("item mode: %o", got)
	}
	if got := mode(t, filepath.Join(some, "conf", "app.conf")); got != 0o644 {
		t.Fatalf("mode without defaultMode: %o, want 644", got)
	}

	if got := listDir(t, filepath.Join(base, "absent")); got != "..<version> ..data" {
		t.Fatalf("missing optional config map: %s", got)
	}
	if got := listDir(t, filepath.Join(base, "absent-key")); got != "..<version> ..data app" {
		t.Fatalf("missing optional key: %s", got)
	}

	// Config is mounted read-only; a subPath mount pins the file itself.
	want := []runtime.Mount{
		{HostPath: all, ContainerPath: "/etc/all", ReadOnly: true},
		{HostPath: filepath.Join(some, dataTarget(t, some), "conf", "app.conf"), ContainerPath: "/etc/app.conf", ReadOnly: true},
	}
	if !slices.Equal(mounts["app"], want) {
		t.Fatalf("mounts = %+v, want %+v", mounts["app"], want)
	}
}

func TestConfigSourceErrors(t *testing.T) {
	tests := []struct {
		name     string
		vol      api.VolumeSource
		srcErr   error
		want     string
		notFound bool
	}{
		{"missing config map", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "x"}}, nil, `volume "v": configmap "x" not found`, true},
		{"missing secret", api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "s"}}, nil, `volume "v": secret "s" not found`, true},
		{"missing required key", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "present", Items: []api.KeyToPath{{Key: "k", Path: "k"}}}},
			nil, `configmap "present" has no key "k"`, false},
		{"source failing", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "x", Optional: api.Ptr(true)}},
			errors.New("connection refused"), `reading configmap "x": connection refused`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.src.setConfigMap("present", map[string]string{"other": "1"})
			e.src.err = tc.srcErr
			_, err := e.setup(t, testPod("uid-1", []api.Volume{{Name: "v", VolumeSource: tc.vol}}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var nf *NotFoundError
			if errors.As(err, &nf) != tc.notFound || api.IsNotFound(err) != tc.notFound {
				t.Fatalf("not found = %v, want %v", errors.As(err, &nf), tc.notFound)
			}
		})
	}
}

func TestSetupReportsEveryVolume(t *testing.T) {
	e := newEnv(t)
	_, err := e.setup(t, testPod("uid-1", []api.Volume{
		{Name: "a", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "x"}}},
		{Name: "b", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: "/nonexistent/dir", Type: "Directory"}}},
	}))
	if err == nil || !strings.Contains(err.Error(), `volume "a"`) || !strings.Contains(err.Error(), `volume "b"`) {
		t.Fatalf("err = %v, want both volumes named", err)
	}
}

func TestConfigMapUpdate(t *testing.T) {
	e := newEnv(t)
	e.src.setConfigMap("settings", map[string]string{"a": "1", "b": "2"})
	pod := testPod("uid-1", []api.Volume{{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "settings"}}}})
	if _, err := e.setup(t, pod); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "configmap", "cfg")
	v1 := dataTarget(t, dir)
	// A process holding the directory open (a container's mount) keeps
	// seeing the same directory.
	held, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	if dataTarget(t, dir) != v1 {
		t.Fatal("unchanged config map rewritten")
	}

	e.src.setConfigMap("settings", map[string]string{"a": "10", "c": "3"})
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	v2 := dataTarget(t, dir)
	if v2 == v1 {
		t.Fatal("..data not swapped")
	}
	if got := listDir(t, dir); got != "..<version> ..data a c" {
		t.Fatalf("after update: %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, v1)); !os.IsNotExist(err) {
		t.Fatalf("old version kept: %v", err)
	}
	if readFile(t, filepath.Join(dir, "a")) != "10" || readFile(t, filepath.Join(dir, "c")) != "3" {
		t.Fatal("new content not visible")
	}
	names, err := held.Readdirnames(-1)
	if err != nil || !slices.Contains(names, "c") {
		t.Fatalf("the open directory does not show the update: %v %v", names, err)
	}

	// The config map goes away: a required volume fails and keeps the
	// last content; nothing is deleted under a running container.
	delete(e.src.configMaps, "settings")
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err == nil {
		t.Fatal("no error for a deleted config map")
	}
	if readFile(t, filepath.Join(dir, "a")) != "10" {
		t.Fatal("content lost")
	}
}

func TestSecretWithoutTmpfs(t *testing.T) {
	e := newEnv(t)
	e.m.mountable = false
	e.src.setSecret("creds", map[string][]byte{"password": []byte("hunter2"), "run.sh": []byte("#!/bin/sh")})
	pod := testPod("uid-1", []api.Volume{{Name: "creds", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{
		SecretName: "creds", DefaultMode: api.Ptr[int32](0o644),
		Items: []api.KeyToPath{{Key: "password", Path: "password"}, {Key: "run.sh", Path: "bin/run.sh", Mode: api.Ptr[int32](0o755)}},
	}}}}, api.VolumeMount{Name: "creds", MountPath: "/creds"})
	mounts, err := e.setup(t, pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "secret", "creds")
	if readFile(t, filepath.Join(dir, "password")) != "hunter2" {
		t.Fatal("wrong content")
	}
	for path, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, dataTarget(t, dir)): 0o700, filepath.Join(dir, "bin"): 0o700,
		filepath.Join(dir, "password"): 0o600, filepath.Join(dir, "bin", "run.sh"): 0o700,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	if !strings.Contains(e.logs.String(), "secret volume written to disk") || strings.Contains(e.logs.String(), "hunter2") {
		t.Fatalf("logs: %s", e.logs)
	}
	if m := mounts["app"]; len(m) != 1 || !m[0].ReadOnly || m[0].HostPath != dir {
		t.Fatalf("mounts = %+v", m)
	}
}

func TestContainerMounts(t *testing.T) {
	e := newEnv(t)
	vols := []api.Volume{{Name: "work", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}}
	pod := testPod("uid-1", vols,
		api.VolumeMount{Name: "work", MountPath: "/work"},
		api.VolumeMount{Name: "work", MountPath: "/cache", SubPath: "cache/app", ReadOnly: true})
	pod.Spec.InitContainers = []api.Container{{Name: "init", VolumeMounts: []api.VolumeMount{{Name: "work", MountPath: "/w"}}}}
	pod.Spec.Containers = append(pod.Spec.Containers, api.Container{Name: "sidecar"})
	mounts, err := e.setup(t, pod)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.root, "uid-1", "volumes", "emptydir", "work")
	want := map[string][]runtime.Mount{
		"init": {{HostPath: dir, ContainerPath: "/w"}},
		"app": {
			{HostPath: dir, ContainerPath: "/work"},
			{HostPath: filepath.Join(dir, "cache", "app"), ContainerPath: "/cache", ReadOnly: true},
		},
	}
	if !equalMounts(mounts, want) {
		t.Fatalf("mounts = %+v, want %+v", mounts, want)
	}
	if got := mode(t, filepath.Join(dir, "cache", "app")); got != 0o777 {
		t.Fatalf("subPath dir mode %o, want 777", got)
	}
}

func TestSubPathSafety(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name  string
		plant func(dir string) // what a container left in its emptyDir
		sub   string
		err   string
	}{
		{"symlink out", func(dir string) { mustSymlink(t, outside, filepath.Join(dir, "evil")) }, "evil/x", "outside the volume"},
		{"relative symlink out", func(dir string) { mustSymlink(t, "../../../../..", filepath.Join(dir, "up")) }, "up", "outside the volume"},
		{"symlink inside", func(dir string) {
			mustMkdir(t, filepath.Join(dir, "real"))
			mustSymlink(t, "real", filepath.Join(dir, "alias"))
		}, "alias", ""},
		{"dot-dot", func(string) {}, "../x", "relative path inside the volume"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			uid := fmt.Sprintf("uid-%d", i)
			vols := []api.Volume{{Name: "work", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}}
			if _, err := e.setup(t, testPod(uid, vols)); err != nil {
				t.Fatal(err)
			}
			tc.plant(filepath.Join(e.root, uid, "volumes", "emptydir", "work"))
			_, err := e.m.Setup(t.Context(), testPod(uid, vols, api.VolumeMount{Name: "work", MountPath: "/w", SubPath: tc.sub}), "node-1")
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatal("Setup created something outside the volume")
			}
		})
	}
}

func TestCleanup(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	mustWrite(t, filepath.Join(host, "keep"), "x", 0o644)
	e.src.setConfigMap("cfg", map[string]string{"k": "v"})
	pod := testPod("uid-1", []api.Volume{
		{Name: "scratch", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		{Name: "host", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: host}}},
		{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}}},
	}, api.VolumeMount{Name: "host", MountPath: "/host"})
	if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(e.root, "uid-1", "agent-file")
	mustWrite(t, other, "x", 0o644)
	if err := e.m.Cleanup("uid-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.root, "uid-1", "volumes")); !os.IsNotExist(err) {
		t.Fatalf("volumes left: %v", err)
	}
	if readFile(t, other) != "x" || readFile(t, filepath.Join(host, "keep")) != "x" {
		t.Fatal("Cleanup removed what is not its own")
	}
	if err := e.m.Cleanup("uid-1"); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b", "."} {
		if err := e.m.Cleanup(bad); err == nil {
			t.Errorf("Cleanup(%q) accepted", bad)
		}
	}
}

func TestConcurrentPods(t *testing.T) {
	e := newEnv(t)
	e.src.setConfigMap("cfg", map[string]string{"k": "v"})
	var wg sync.WaitGroup
	for i := range 20 {
		pod := testPod(fmt.Sprintf("uid-%d", i%5), []api.Volume{
			{Name: "cfg", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}}},
			{Name: "scratch", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
		})
		wg.Go(func() {
			if _, err := e.m.Setup(t.Context(), pod, "node-1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 5 {
		if err := e.m.Cleanup(fmt.Sprintf("uid-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.m.locks) != 0 {
		t.Fatalf("pod locks left: %d", len(e.m.locks))
	}
}

func equalMounts(a, b map[string][]runtime.Mount) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
