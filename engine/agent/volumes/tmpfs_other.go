//go:build !linux

package volumes

import (
	"errors"
	"os"
)

var errNoTmpfs = errors.New("tmpfs mounts are only supported on Linux")

func canMount() bool { return false }

func mountTmpfs(string, os.FileMode, int64) error { return errNoTmpfs }

func unmountAll(string) error { return nil }
