package volumes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/api"
)

// defaultFileMode is the API default of defaultMode, for unset pods.
const defaultFileMode = 0o644

// setupConfigMap projects a config map's keys into its volume dir.
func (m *Manager) setupConfigMap(ctx context.Context, pod *api.Pod, v *api.Volume) (string, error) {
	s := v.ConfigMap
	optional := api.Deref(s.Optional, false)
	cm, err := m.src.ConfigMap(ctx, pod.Namespace, s.Name)
	if err := checkSource("configmap", s.Name, cm != nil, err, optional); err != nil {
		return "", err
	}
	var data map[string][]byte
	if cm != nil {
		data = make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		for k, v := range cm.BinaryData {
			data[k] = v
		}
	}
	payload, err := projection("configmap", s.Name, data, s.Items, s.DefaultMode, optional, 0o777)
	if err != nil {
		return "", err
	}
	dir := m.volumeDir(pod.UID, dirConfigMap, v.Name)
	if err := mkdirMode(dir, 0o755); err != nil {
		return "", err
	}
	return dir, writeAtomic(dir, payload, 0o755)
}

// setupSecret projects a secret's keys into its volume dir, on a tmpfs of
// its own when the agent can mount one. Otherwise the files go to disk
// readable by their owner only.
func (m *Manager) setupSecret(ctx context.Context, pod *api.Pod, v *api.Volume) (string, error) {
	s := v.Secret
	optional := api.Deref(s.Optional, false)
	sec, err := m.src.Secret(ctx, pod.Namespace, s.SecretName)
	if err := checkSource("secret", s.SecretName, sec != nil, err, optional); err != nil {
		return "", err
	}
	var data map[string][]byte
	if sec != nil {
		data = sec.Data
	}
	dir := m.volumeDir(pod.UID, dirSecret, v.Name)
	onTmpfs := false
	if m.mountable {
		if err := mkdirMode(dir, 0o755); err != nil {
			return "", err
		}
		if err := mountTmpfs(dir, 0o755, 0); err != nil {
			m.warnOnce(pod, v, dir, "secret volume not on tmpfs: writing it to disk, owner-only", "err", err)
		} else {
			onTmpfs = true
		}
	} else {
		m.warnOnce(pod, v, dir, "agent is not root: secret volume written to disk, owner-only")
	}
	perm, dirMode := fs.FileMode(0o777), fs.FileMode(0o755)
	if !onTmpfs {
		perm, dirMode = 0o700, 0o700
		if err := mkdirMode(dir, dirMode); err != nil {
			return "", err
		}
	}
	payload, err := projection("secret", s.SecretName, data, s.Items, s.DefaultMode, optional, perm)
	if err != nil {
		return "", err
	}
	return dir, writeAtomic(dir, payload, dirMode)
}

// checkSource judges a Source answer: a missing optional object projects
// nothing; a missing required one is a NotFoundError.
func checkSource(kind, name string, found bool, err error, optional bool) error {
	if err == nil && !found {
		err = api.NewNotFound(kind+"s", name)
	}
	switch {
	case err == nil, api.IsNotFound(err) && optional:
		return nil
	case api.IsNotFound(err):
		return &NotFoundError{Kind: kind, Name: name, Err: err}
	default:
		return fmt.Errorf("reading %s %q: %w", kind, name, err)
	}
}

// projection maps keys to files: every key under its own name, or only the
// listed items at their paths. Modes come from the item, else defaultMode,
// masked by perm (the owner-only fallback for secrets).
func projection(kind, name string, data map[string][]byte, items []api.KeyToPath, defaultMode *int32, optional bool, perm fs.FileMode) (map[string]file, error) {
	mode := fs.FileMode(api.Deref(defaultMode, defaultFileMode)) & perm
	payload := map[string]file{}
	if len(items) == 0 {
		for k, v := range data {
			payload[k] = file{data: v, mode: mode}
		}
		return payload, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s %q has no key %q", kind, name, it.Key)
		}
		f := file{data: v, mode: mode}
		if it.Mode != nil {
			f.mode = fs.FileMode(*it.Mode) & perm
		}
		payload[it.Path] = f
	}
	return payload, nil
}

// mkdirMode creates dir (and parents, 0755) and gives it mode whatever the
// umask; an existing dir gets the mode too.
func mkdirMode(dir string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}
