//go:build linux

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procStat is what the runtime reads from /proc/<pid>/stat.
type procStat struct {
	state      byte
	pgrp       int
	utime      uint64 // clock ticks
	stime      uint64
	cutime     uint64
	cstime     uint64
	startTicks uint64 // since boot
	rssPages   uint64
}

// clockTicks is USER_HZ, the unit of /proc times: 100 on every Linux
// architecture's user ABI (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// readStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	num := func(field int) uint64 { n, _ := strconv.ParseUint(f[field-3], 10, 64); return n }
	return procStat{
		state:      f[0][0],
		pgrp:       int(num(5)),
		utime:      num(14),
		stime:      num(15),
		cutime:     num(16),
		cstime:     num(17),
		startTicks: num(22),
		rssPages:   num(24),
	}, nil
}

// alive reports whether pid is the process that started at startTicks and
// has not exited (a zombie waits only for its parent to read its status).
func alive(pid int, startTicks uint64) bool {
	st, err := readStat(pid)
	return err == nil && st.startTicks == startTicks && st.state != 'Z' && st.state != 'X'
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) map[int]procStat {
	out := map[int]procStat{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			out[pid] = st
		}
	}
	return out
}

// killGroup signals the process group led by the shim, if the shim is
// still the process recorded (never a stranger that reused its pid).
func killGroup(pid int, startTicks uint64, sig syscall.Signal) error {
	if !alive(pid, startTicks) {
		return nil
	}
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// killStragglers SIGKILLs what is left of a group whose leader is gone
// (daemonised children), sparing except. Only processes started after the
// leader can be ours: an older group member would be a reused group id.
func killStragglers(pgid int, leaderStart uint64, except int) {
	for pid, st := range groupMembers(pgid) {
		if pid != except && st.startTicks >= leaderStart {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// defaultPath is the PATH of a container whose env sets none (Docker's).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// containerEnv is the process's environment: the container's, with a
// default PATH. The agent's own environment does not leak in.
func containerEnv(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			return env
		}
	}
	return append(append([]string{}, env...), "PATH="+defaultPath)
}

// lookPath resolves a command name as the container's own PATH would.
// Names with a slash are left to the kernel (relative to the working dir).
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable file %q not found in $PATH (%s)", name, path)
}
