//go:build unix

package localserver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// detach puts the supervisor in a session of its own: terraform's end (or
// a Ctrl-C in its terminal) does not reach it.
func detach(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return nil
}

// alive reports whether pid runs and is the supervisor of dataDir (on
// Linux its command line names the data dir, so a reused pid is not taken
// for it). A zombie is not alive.
func alive(pid int, dataDir string) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	if runtime.GOOS != "linux" {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return bytes.Contains(cmdline, []byte("\x00supervise\x00")) && bytes.Contains(cmdline, []byte("\x00"+dataDir+"\x00"))
}

// stopGroup sends SIGTERM to the supervisor and waits for it to exit
// (exited, when the caller reaps it, closes then), then kills what is
// left of its process group.
func stopGroup(pid int, exited <-chan struct{}, timeout time.Duration) error {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	gone := func() bool {
		if exited != nil {
			select {
			case <-exited:
				return true
			default:
				return false
			}
		}
		return !aliveAny(pid)
	}
	for !gone() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // the session's leftovers
	if !gone() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond)
		if !gone() {
			return fmt.Errorf("the supervisor (pid %d) did not stop", pid)
		}
	}
	return nil
}

// aliveAny: pid runs and is no zombie.
func aliveAny(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return runtime.GOOS != "linux"
	}
	i := bytes.LastIndexByte(stat, ')')
	return !(i > 0 && i+2 < len(stat) && stat[i+2] == 'Z')
}
