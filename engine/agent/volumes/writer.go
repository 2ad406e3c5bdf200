package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	dataLink    = "..data"     // -> the current version dir
	dataLinkTmp = "..data_tmp" // the next ..data, renamed over it
)

// file is one projected file: its content and mode.
type file struct {
	data []byte
	mode fs.FileMode
}

// writeAtomic makes dir show exactly payload (relative path -> file), the
// way kubelet's AtomicWriter does: write a new version dir, point a
// temporary symlink at it, rename that over ..data (atomic), then add the
// per-key symlinks and drop what the new version no longer has. An
// unchanged payload writes nothing. dirMode is the mode of the version
// dirs (and their subdirectories).
func writeAtomic(dir string, payload map[string]file, dirMode fs.FileMode) error {
	top := map[string]bool{}
	for p := range payload {
		if err := checkPayloadPath(p); err != nil {
			return err
		}
		top[strings.SplitN(p, "/", 2)[0]] = true
	}
	current, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if current == "" || !sameContent(filepath.Join(dir, current), payload) {
		if current, err = writeVersion(dir, payload, dirMode); err != nil {
			return err
		}
	}
	return tidy(dir, current, top)
}

// writeVersion writes payload into a new version dir and makes ..data
// point to it, returning its name.
func writeVersion(dir string, payload map[string]file, dirMode fs.FileMode) (string, error) {
	version, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return "", err
	}
	if err := os.Chmod(version, dirMode); err != nil {
		return "", err
	}
	for p, f := range payload {
		full := filepath.Join(version, filepath.FromSlash(p))
		if err := mkdirAllMode(version, filepath.Dir(full), dirMode); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return "", err
		}
		if err := os.Chmod(full, f.mode); err != nil { // past the umask
			return "", err
		}
	}
	name := filepath.Base(version)
	tmp := filepath.Join(dir, dataLinkTmp)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.Symlink(name, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return "", fmt.Errorf("swapping %s: %w", dataLink, err)
	}
	return name, nil
}

// tidy adds the symlink of every top-level payload entry, removes the
// entries no longer projected, and the versions other than current.
func tidy(dir, current string, top map[string]bool) error {
	for name := range top {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, fs.ErrNotExist) {
			if err := os.Symlink(filepath.Join(dataLink, name), link); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == dataLink || name == current:
		case strings.HasPrefix(name, ".."): // an old version, or a crash's leftovers
			errs = append(errs, os.RemoveAll(filepath.Join(dir, name)))
		case !top[name]:
			errs = append(errs, os.Remove(filepath.Join(dir, name)))
		}
	}
	return errors.Join(errs...)
}

// sameContent reports whether a version dir holds exactly payload, with
// the same modes.
func sameContent(version string, payload map[string]file) bool {
	seen := 0
	err := filepath.WalkDir(version, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(version, path)
		if err != nil {
			return err
		}
		f, ok := payload[filepath.ToSlash(rel)]
		if !ok {
			return fs.ErrExist
		}
		info, err := d.Info()
		if err != nil || info.Mode() != f.mode {
			return fs.ErrExist
		}
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(data, f.data) {
			return fs.ErrExist
		}
		seen++
		return nil
	})
	return err == nil && seen == len(payload)
}

// checkPayloadPath refuses what could escape the volume dir or shadow the
// writer's own ..names. The API validates item paths already; this is the
// last line before the agent writes as root.
func checkPayloadPath(p string) error {
	if !filepath.IsLocal(filepath.FromSlash(p)) || strings.HasPrefix(p, "..") || strings.Contains(p, "/..") || p != filepath.ToSlash(filepath.Clean(p)) {
		return fmt.Errorf("invalid path %q: must be relative, clean and not start with '..'", p)
	}
	return nil
}

// mkdirAllMode creates dir and its missing parents below base with mode.
func mkdirAllMode(base, dir string, mode fs.FileMode) error {
	if dir == base {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirAllMode(base, filepath.Dir(dir), mode); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}
