//go:build !windows

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// start starts argv in its own session (so it outlives this process and
// Delete can signal its whole group), with output to logPath, and reaps it
// in the background. It returns the PID and the process's start time.
func start(argv, env []string, dir, logPath string) (int, uint64, error) {
	if len(argv) == 0 {
		return 0, 0, errors.New("empty command")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	pid := cmd.Process.Pid
	st, _ := startTime(pid)
	go func() { _ = cmd.Wait() }() // reap: a zombie would look alive
	return pid, st, nil
}

// startTime reads a process's start time (clock ticks since boot) from
// /proc, which tells a PID reused by another process from ours. Without
// /proc it returns 0 and liveness falls back to kill(pid, 0).
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, errors.New("zombie")
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether pid is still the process that was started at st.
func alive(pid int, st uint64) bool {
	if pid <= 0 {
		return false
	}
	if st != 0 {
		now, err := startTime(pid)
		return err == nil && now == st
	}
	return syscall.Kill(pid, 0) == nil
}

// stop sends SIGTERM to the process group of pid, then SIGKILL after grace,
// and waits for it to be gone.
func stop(ctx context.Context, pid int, st uint64, grace time.Duration) error {
	if !alive(pid, st) {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	if waitGone(ctx, pid, st, grace) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if waitGone(ctx, pid, st, 5*time.Second) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("process %d still running after SIGKILL", pid)
}

func waitGone(ctx context.Context, pid int, st uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for poll := time.Millisecond; alive(pid, st); poll = min(2*poll, 50*time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(poll)
	}
	return true
}

// killAll sends SIGKILL to every pid.
func killAll(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}
