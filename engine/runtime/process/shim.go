//go:build linux

package process

// The shim supervises one container's process. It is this very binary,
// re-executed by StartContainer with shimEnv set: init() below turns the
// new process into a shim before main runs.
//
// Why a shim rather than `/bin/sh -c '"$@"; echo $? > "$0"' <exitfile> cmd...`:
// that wrapper loses the exit code exactly when it matters. StopContainer
// signals the whole process group, so the shell gets SIGTERM too and dies
// before the process it waits for (checked with dash: no exit file). A
// `trap : TERM INT` fixes that (a trapped signal waits for the foreground
// command, and the child gets the default disposition back), but the log
// still needs a timestamp per line, and whatever adds it must outlive the
// agent: a pipe read by the agent would SIGPIPE the process when the agent
// restarts, and sh has no cheap way to stamp lines itself. The shim does
// both in one small loop, reads the exact wait status (signal included),
// and tells an OOM kill from another SIGKILL by the cgroup's counter. The
// cost is one idle Go process per container (the runtime's own binary, so
// nothing extra to install). It catches SIGTERM/SIGINT/SIGHUP/SIGQUIT:
// caught signals revert to the default in the exec'd process (ignored
// ones would stay ignored), so the process sees them as it would anywhere.
//
// Protocol with StartContainer: the shim starts with fd 3 as the read end
// of a pipe ("the gate"). The agent puts it in the container's cgroups,
// writes state.json, then writes "g". Only then does the shim start the
// process (which so inherits the cgroups), after which the shim moves to a
// cgroup of its own (<parent>/shims). EOF without "g" means the agent
// gave up or died before recording the shim: it exits without running
// anything, so no process ever runs untracked.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	shimEnv  = "MAESTRO_PROCESS_SHIM"
	shimArg0 = "maestro-process-shim"
	// drainTimeout bounds waiting for the log pipe after the process
	// exits: a process that left the group may hold it open.
	drainTimeout = 2 * time.Second
)

func init() {
	if dir := os.Getenv(shimEnv); dir != "" && len(os.Args) == 2 && os.Args[0] == shimArg0 {
		os.Exit(runShim(dir))
	}
}

func runShim(dir string) int {
	// SIGTERM and friends, sent to the whole group, are for the process;
	// the shim stays to record how it ended.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	gate := os.NewFile(3, "gate")
	var b [1]byte
	if n, _ := gate.Read(b[:]); n != 1 || b[0] != 'g' {
		return 0
	}
	gate.Close()

	var rec containerRecord
	var st stateRecord
	if err := readJSON(filepath.Join(dir, configFile), &rec); err != nil {
		return recordExit(dir, exitRecord{ExitCode: 128, Message: "shim: " + err.Error(), FinishedAt: time.Now()})
	}
	if err := readJSON(filepath.Join(dir, stateFile), &st); err != nil {
		return recordExit(dir, exitRecord{ExitCode: 128, Message: "shim: " + err.Error(), FinishedAt: time.Now()})
	}
	logf, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return recordExit(dir, exitRecord{ExitCode: 128, Message: "shim: " + err.Error(), FinishedAt: time.Now()})
	}
	defer logf.Close()
	return recordExit(dir, supervise(rec, st, logf))
}

func recordExit(dir string, ex exitRecord) int {
	if err := writeJSON(filepath.Join(dir, exitFile), ex); err != nil {
		fmt.Fprintln(os.Stderr, "shim: recording the exit:", err)
		return 1
	}
	return 0
}

// supervise runs the container's process to its end.
func supervise(rec containerRecord, st stateRecord, logf *os.File) exitRecord {
	cfg := rec.Config
	env := containerEnv(cfg.Env)
	argv := append(slices.Clone(cfg.Command), cfg.Args...)
	fail := func(code int, err error) exitRecord {
		msg := fmt.Sprintf("cannot start %q: %v", argv[0], err)
		_, _ = logf.Write(appendLogLines(nil, time.Now(), []byte(msg)))
		return exitRecord{ExitCode: code, Message: msg, FinishedAt: time.Now()}
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return fail(127, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fail(128, err)
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Dir: cfg.WorkingDir, Stdout: pw, Stderr: pw}
	oomBefore := oomKills(st.Cgroups)
	if err := startInCgroups(cmd, st.Cgroups); err != nil {
		pw.Close()
		pr.Close()
		code := 127
		if errors.Is(err, os.ErrPermission) {
			code = 126
		}
		return fail(code, err)
	}
	pw.Close()
	// The process has inherited the container's cgroups; the shim leaves
	// them, so an OOM kill can only pick the container's processes and the
	// shim's own memory and cpu are not the container's.
	leaveCgroups(st.ShimCgroups)

	copied := make(chan struct{})
	go func() { copyLog(logf, pr); close(copied) }()
	_ = cmd.Wait() // the status is in ProcessState
	finished := time.Now()
	// As with a container's pid namespace, the rest of the group ends
	// with the main process.
	if self, err := readStat(os.Getpid()); err == nil {
		killStragglers(os.Getpid(), self.startTicks, os.Getpid())
	}
	select {
	case <-copied:
	case <-time.After(drainTimeout):
	}
	pr.Close()

	ex := exitRecord{FinishedAt: finished}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		ex.ExitCode = 128 + int(ws.Signal())
		ex.Signal = ws.Signal().String()
		ex.OOMKilled = ws.Signal() == syscall.SIGKILL && oomKills(st.Cgroups) > oomBefore
	default:
		ex.ExitCode = cmd.ProcessState.ExitCode()
	}
	return ex
}

// startInCgroups starts cmd inside the container's cgroups. With cgroup v2
// (one directory) the kernel places the child there as it is created
// (CLONE_INTO_CGROUP), so the shim is never in the container's cgroup and
// can never be what an OOM kill picks; otherwise (v1, or a kernel before
// 5.7) the shim joins the cgroups, starts the child, and leaves them.
func startInCgroups(cmd *exec.Cmd, dirs []string) error {
	if len(dirs) == 1 {
		if dir, err := os.Open(dirs[0]); err == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
			err = cmd.Start()
			dir.Close()
			if err == nil || !errors.Is(err, syscall.ENOSYS) && !errors.Is(err, syscall.EINVAL) {
				return err
			}
			cmd.SysProcAttr, cmd.Process = nil, nil
		}
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return fmt.Errorf("joining cgroup %s: %w", d, err)
		}
	}
	return cmd.Start()
}

// leaveCgroups moves the shim into the shims' cgroups.
func leaveCgroups(dirs []string) {
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			fmt.Fprintln(os.Stderr, "shim: leaving the container's cgroup:", err)
		}
	}
}

// LogTimeFormat prefixes every log line: RFC 3339 with fixed nanoseconds,
// in UTC (the engine's format too).
const LogTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// copyLog copies the process's output into the log, one timestamped line
// per line written; a write that does not end a line still makes one.
func copyLog(w io.Writer, r io.Reader) {
	buf := make([]byte, 32<<10)
	var out []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			out = appendLogLines(out[:0], time.Now(), buf[:n])
			_, _ = w.Write(out)
		}
		if err != nil {
			return
		}
	}
}

func appendLogLines(dst []byte, now time.Time, p []byte) []byte {
	ts := now.UTC().AppendFormat(nil, LogTimeFormat)
	for len(p) > 0 {
		line, rest, _ := cutLine(p)
		dst = append(dst, ts...)
		dst = append(dst, ' ')
		dst = append(dst, line...)
		dst = append(dst, '\n')
		p = rest
	}
	return dst
}

func cutLine(p []byte) (line, rest []byte, found bool) {
	for i, c := range p {
		if c == '\n' {
			return p[:i], p[i+1:], true
		}
	}
	return p, nil, false
}

// oomKills sums the OOM kill counters of the cgroups (v1 memory.oom_control,
// v2 memory.events; the counter needs Linux 4.13).
func oomKills(dirs []string) int {
	total := 0
	for _, dir := range dirs {
		for _, name := range []string{"memory.events", "memory.oom_control"} {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "oom_kill "); ok {
					n, _ := strconv.Atoi(v)
					total += n
				}
			}
			f.Close()
		}
	}
	return total
}
