package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Manager prepares and removes the volumes of a node's pods. Its methods
// are safe for concurrent use; calls for one pod are serialized.
type Manager struct {
	root string
	src  Source
	vols VolumeSource
	log  *slog.Logger
	// mountable: the agent can mount tmpfs (it runs as root); tests turn
	// it off to check the fallbacks.
	mountable bool

	mu     sync.Mutex
	locks  map[string]*podLock
	warned map[string]bool // volume dirs warned about, so repeated Setups log once
}

type podLock struct {
	sync.Mutex
	users int
}

// NewManager returns a manager keeping pod volumes under root (the agent's
// pods dir), reading config maps and secrets from src and Volumes from vols.
func NewManager(root string, src Source, vols VolumeSource, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	return &Manager{root: root, src: src, vols: vols, log: log, mountable: canMount(),
		locks: map[string]*podLock{}, warned: map[string]bool{}}
}

// prepared is a volume ready to mount.
type prepared struct {
	hostPath   string // bind mount source, or
	volumeName string // runtime named volume
	readOnly   bool   // always mounted read-only (projected config)
	create     bool   // missing subPaths are created (scratch and host dirs)
	perm       fs.FileMode
}

// Setup prepares every volume of pod and returns the mounts of each
// container (init containers included), by container name. It is
// idempotent and may run again at any time: config map and secret volumes
// are updated in place. All failures are reported together, each naming
// its volume.
func (m *Manager) Setup(ctx context.Context, pod *api.Pod, nodeName string) (map[string][]runtime.Mount, error) {
	if err := checkUID(pod.UID); err != nil {
		return nil, err
	}
	defer m.lock(pod.UID)()
	vols := make(map[string]prepared, len(pod.Spec.Volumes))
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		p, err := m.setupVolume(ctx, pod, v, nodeName)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %q: %w", v.Name, err))
			continue
		}
		vols[v.Name] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return containerMounts(pod, vols)
}

func (m *Manager) setupVolume(ctx context.Context, pod *api.Pod, v *api.Volume, nodeName string) (prepared, error) {
	var (
		p   prepared
		err error
	)
	switch {
	case v.EmptyDir != nil:
		p = prepared{create: true, perm: 0o777}
		p.hostPath, err = m.setupEmptyDir(pod, v)
	case v.HostPath != nil:
		p = prepared{create: true, perm: 0o755}
		p.hostPath, err = setupHostPath(v.HostPath)
	case v.ConfigMap != nil:
		p = prepared{readOnly: true}
		p.hostPath, err = m.setupConfigMap(ctx, pod, v)
	case v.Secret != nil:
		p = prepared{readOnly: true}
		p.hostPath, err = m.setupSecret(ctx, pod, v)
	case v.Persistent != nil:
		p.volumeName, err = m.persistentVolume(ctx, pod, v.Persistent.Name, nodeName)
	default:
		err = errors.New("no volume source set")
	}
	return p, err
}

// persistentVolume returns the runtime volume of a pod's Volume after
// checking that the Volume lives on this node: the scheduler places pods
// only there, and this is the check that holds when a pod gets here any
// other way (bound by hand, a stale binding).
func (m *Manager) persistentVolume(ctx context.Context, pod *api.Pod, name, node string) (string, error) {
	if node == "" {
		return "", errors.New("persistent volume needs the node name")
	}
	v, err := m.vols.Volume(ctx, pod.Namespace, name)
	switch {
	case api.IsNotFound(err):
		return "", &ElsewhereError{Volume: name}
	case err != nil:
		return "", fmt.Errorf("reading volume %q: %w", name, err)
	case v.Node() != node:
		return "", &ElsewhereError{Volume: name, Node: v.Node()}
	}
	return PersistentVolumeName(node, pod.Namespace, name), nil
}

// Cleanup removes a pod's volume dirs, unmounting its tmpfs mounts first.
// Host paths and persistent volumes are never touched. If a tmpfs cannot
// be unmounted, nothing is removed (a container may still use it) and the
// error says which. Cleaning up a pod with no volumes is no error.
func (m *Manager) Cleanup(podUID string) error {
	if err := checkUID(podUID); err != nil {
		return err
	}
	defer m.lock(podUID)()
	base := filepath.Join(m.root, podUID, "volumes")
	var errs []error
	for _, kind := range []string{dirEmptyDir, dirSecret} {
		entries, err := os.ReadDir(filepath.Join(base, kind))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range entries {
			errs = append(errs, unmountAll(filepath.Join(base, kind, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleaning up volumes of pod %s: %w", podUID, err)
	}
	if err := os.RemoveAll(base); err != nil {
		return fmt.Errorf("cleaning up volumes of pod %s: %w", podUID, err)
	}
	m.mu.Lock()
	for dir := range m.warned {
		if strings.HasPrefix(dir, base+string(filepath.Separator)) {
			delete(m.warned, dir)
		}
	}
	m.mu.Unlock()
	return nil
}

// warnOnce logs a warning about a pod's volume the first time only.
func (m *Manager) warnOnce(pod *api.Pod, v *api.Volume, dir, msg string, args ...any) {
	m.mu.Lock()
	seen := m.warned[dir]
	m.warned[dir] = true
	m.mu.Unlock()
	if !seen {
		args = append([]any{"podUID", pod.UID, "pod", pod.Namespace + "/" + pod.Name, "volume", v.Name}, args...)
		m.log.Warn(msg, args...)
	}
}

func (m *Manager) volumeDir(podUID, kind, name string) string {
	return filepath.Join(m.root, podUID, "volumes", kind, name)
}

// checkUID refuses a pod UID that is not one plain path element, since it
// names the directory Cleanup removes.
func checkUID(uid string) error {
	if uid == "" || uid == "." || uid == ".." || strings.ContainsAny(uid, `/\`) {
		return fmt.Errorf("invalid pod UID %q", uid)
	}
	return nil
}

// lock serializes Setup and Cleanup of one pod and returns the unlock.
func (m *Manager) lock(podUID string) func() {
	m.mu.Lock()
	l := m.locks[podUID]
	if l == nil {
		l = &podLock{}
		m.locks[podUID] = l
	}
	l.users++
	m.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		m.mu.Lock()
		if l.users--; l.users == 0 {
			delete(m.locks, podUID)
		}
		m.mu.Unlock()
	}
}
