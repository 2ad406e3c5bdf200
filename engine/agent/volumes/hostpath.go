package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/api"
)

// Host path types.
const (
	hostPathUnset             = ""
	hostPathDirectory         = "Directory"
	hostPathDirectoryOrCreate = "DirectoryOrCreate"
	hostPathFile              = "File"
	hostPathFileOrCreate      = "FileOrCreate"
)

// setupHostPath checks (or creates) the node's path as its type says and
// returns it for a bind mount. An unset type checks nothing, as in
// Kubernetes.
func setupHostPath(s *api.HostPathVolumeSource) (string, error) {
	p := filepath.Clean(s.Path)
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("hostPath %q is not absolute", s.Path)
	}
	info, err := os.Stat(p)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return "", fmt.Errorf("hostPath %s: %w", p, err)
	}
	switch s.Type {
	case hostPathUnset:
	case hostPathDirectoryOrCreate:
		if missing {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return "", fmt.Errorf("creating hostPath directory %s: %w", p, err)
			}
		} else if !info.IsDir() {
			return "", fmt.Errorf("hostPath %s exists and is not a directory", p)
		}
	case hostPathDirectory:
		if missing {
			return "", fmt.Errorf("hostPath directory %s does not exist", p)
		}
		if !info.IsDir() {
			return "", fmt.Errorf("hostPath %s is not a directory", p)
		}
	case hostPathFileOrCreate:
		if missing {
			// Like Kubernetes, the parent directory must exist.
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", fmt.Errorf("creating hostPath file %s: %w", p, err)
			}
			if err := f.Close(); err != nil {
				return "", err
			}
		} else if info.IsDir() {
			return "", fmt.Errorf("hostPath %s exists and is a directory, not a file", p)
		}
	case hostPathFile:
		if missing {
			return "", fmt.Errorf("hostPath file %s does not exist", p)
		}
		if info.IsDir() {
			return "", fmt.Errorf("hostPath %s is a directory, not a file", p)
		}
	default:
		return "", fmt.Errorf("hostPath type %q is not supported", s.Type)
	}
	return p, nil
}
