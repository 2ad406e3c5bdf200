//go:build linux

package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// canMount reports whether the agent may mount file systems at all.
func canMount() bool { return os.Geteuid() == 0 }

// mountTmpfs mounts a tmpfs on dir unless one is already there (Setup runs
// again and again). size 0 leaves the kernel's default (half the RAM).
func mountTmpfs(dir string, mode os.FileMode, size int64) error {
	mounted, err := isMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	opts := fmt.Sprintf("mode=%o", mode.Perm())
	if size > 0 {
		opts += fmt.Sprintf(",size=%d", size)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mounting tmpfs on %s: %w", dir, err)
	}
	return nil
}

// unmountAll removes every mount stacked on dir (normally none or one).
func unmountAll(dir string) error {
	for range 16 {
		mounted, err := isMountPoint(dir)
		if err != nil || !mounted {
			return err
		}
		if err := syscall.Unmount(dir, 0); err != nil {
			if !errors.Is(err, syscall.EBUSY) {
				return fmt.Errorf("unmounting %s: %w", dir, err)
			}
			// Busy (a process has a file open there): detach it now,
			// the kernel frees it when the last user goes.
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmounting %s: %w", dir, err)
			}
		}
	}
	return fmt.Errorf("unmounting %s: still mounted", dir)
}

// isMountPoint compares devices: a tmpfs always has a device of its own,
// which is all this package mounts. A missing dir is no mount point.
func isMountPoint(dir string) (bool, error) {
	var st, parent syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := syscall.Lstat(filepath.Dir(dir), &parent); err != nil {
		return false, fmt.Errorf("stat %s: %w", filepath.Dir(dir), err)
	}
	return st.Dev != parent.Dev, nil
}
