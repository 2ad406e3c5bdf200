package volumes

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// fakeSource serves config maps, secrets and Volumes from memory.
type fakeSource struct {
	mu         sync.Mutex
	configMaps map[string]*api.ConfigMap
	secrets    map[string]*api.Secret
	volumes    map[string]*api.PersistentVolume
	err        error // returned for every read when set
}

func newFakeSource() *fakeSource {
	return &fakeSource{configMaps: map[string]*api.ConfigMap{}, secrets: map[string]*api.Secret{},
		volumes: map[string]*api.PersistentVolume{}}
}

// setVolume records a Volume of namespace ns living on node ("" for none).
func (f *fakeSource) setVolume(name, node string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.volumes[name] = &api.PersistentVolume{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name},
		Status: api.PersistentVolumeStatus{NodeName: node}}
}

func (f *fakeSource) Volume(_ context.Context, ns, name string) (*api.PersistentVolume, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if v, ok := f.volumes[name]; ok && ns == "ns" {
		return v, nil
	}
	return nil, api.NewNotFound("Volume", name)
}

func (f *fakeSource) setConfigMap(name string, data map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configMaps[name] = &api.ConfigMap{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name}, Data: data}
}

func (f *fakeSource) setSecret(name string, data map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[name] = &api.Secret{ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: name}, Data: data}
}

func (f *fakeSource) ConfigMap(_ context.Context, ns, name string) (*api.ConfigMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if cm, ok := f.configMaps[name]; ok && ns == "ns" {
		return cm, nil
	}
	return nil, api.NewNotFound("configmaps", name)
}

func (f *fakeSource) Secret(_ context.Context, ns, name string) (*api.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if s, ok := f.secrets[name]; ok && ns == "ns" {
		return s, nil
	}
	return nil, api.NewNotFound("secrets", name)
}

// logBuffer collects a Manager's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type env struct {
	root string
	src  *fakeSource
	m    *Manager
	logs *logBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{root: t.TempDir(), src: newFakeSource(), logs: &logBuffer{}}
	e.m = NewManager(e.root, e.src, e.src, slog.New(slog.NewTextHandler(e.logs, nil)))
	return e
}

// setup runs Setup and cleans the pod up (unmounting its tmpfs) at the
// end of the test.
func (e *env) setup(t *testing.T, pod *api.Pod) (map[string][]runtime.Mount, error) {
	t.Helper()
	t.Cleanup(func() {
		if err := e.m.Cleanup(pod.UID); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return e.m.Setup(t.Context(), pod, "node-1")
}

func testPod(uid string, vols []api.Volume, mounts ...api.VolumeMount) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "web", UID: uid},
		Spec: api.PodSpec{
			Volumes:    vols,
			Containers: []api.Container{{Name: "app", VolumeMounts: mounts}},
		},
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// listDir names the entries of dir, sorted.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") && n != dataLink {
			n = "..<version>"
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

func dataTarget(t *testing.T, dir string) string {
	t.Helper()
	v, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
