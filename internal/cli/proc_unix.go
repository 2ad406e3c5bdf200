//go:build unix

package cli

import (
	"os"
	"strconv"
	"syscall"
)

// terminate asks a process to stop (SIGTERM).
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// processAlive reports whether pid runs (a zombie does not).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || !containsState(b, 'Z')
}
