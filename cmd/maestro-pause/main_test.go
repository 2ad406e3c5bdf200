package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// The test binary plays the pause process itself (and the processes it
// must reap), chosen by this variable; see TestMain.
const roleEnv = "MAESTRO_PAUSE_TEST_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "pause":
		os.Exit(run(os.Getpid() == 1, func() { os.Stdout.WriteString("ready\n") }))
	case "init":
		os.Exit(run(os.Getpid() == 1, func() { go spawnOrphanAndCheck() }))
	case "orphaner":
		// Start a child and leave at once: the child is reparented to pid 1
		// and becomes a zombie there unless pid 1 reaps it.
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), roleEnv+"=sleeper")
		if err := child.Start(); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	case "sleeper":
		time.Sleep(100 * time.Millisecond)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// spawnOrphanAndCheck runs beside run() in the "init" role: it starts an
// orphaner (a direct child that exits) which leaves a grandchild behind,
// then reports on stdout whether both were reaped: "reaped" once there is
// no child at all, or the pid of a zombie that stayed one for a second.
func spawnOrphanAndCheck() {
	c := exec.Command(os.Args[0])
	c.Env = append(os.Environ(), roleEnv+"=orphaner")
	if err := c.Start(); err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	var zombie int
	var seen time.Time
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		pid, err := exitedChild()
		switch {
		case errors.Is(err, syscall.ECHILD):
			os.Stdout.WriteString("reaped\n")
			return
		case err != nil:
			os.Stdout.WriteString("error " + err.Error() + "\n")
			return
		case pid == 0 || pid != zombie:
			// Children still running, or a zombie just made: the reaper
			// gets its SIGCHLD a moment later.
			zombie, seen = pid, time.Now()
		case time.Since(seen) > time.Second:
			os.Stdout.WriteString("unreaped child " + strconv.Itoa(pid) + "\n")
			return
		}
	}
	os.Stdout.WriteString("children still running after 20s\n")
}

// exitedChild returns the pid of a child that exited and was not reaped
// (0 if every child is still running) without reaping it: waitid with
// WNOWAIT, which the syscall package does not wrap.
func exitedChild() (int, error) {
	const pAll, wNoWait = 0, 0x01000000
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pAll, 0, uintptr(unsafe.Pointer(&info[0])),
			syscall.WEXITED|syscall.WNOHANG|wNoWait, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		// si_pid follows si_signo, si_errno, si_code and, on 64-bit
		// systems, the padding that aligns the union.
		off := 12
		if unsafe.Sizeof(uintptr(0)) == 8 {
			off = 16
		}
		return int(*(*int32)(unsafe.Pointer(&info[off]))), nil
	}
}

// start runs the test binary in a role and returns the command and its
// stdout.
func start(t *testing.T, role string, attr *syscall.SysProcAttr) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.SysProcAttr = attr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) {
			testreq.Missing(t, "permission to create a pid namespace: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", role, stderr.String())
		}
	})
	return cmd, bufio.NewReader(stdout)
}

// stop sends sig and expects the process to exit 0 within two seconds. The
// caller has seen the process report that it catches signals: before that,
// a SIGTERM would kill it (or, as pid 1, be ignored).
func stop(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after %v: %v, want exit status 0", sig, err)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("still running 2s after %v", sig)
	}
}

func TestExitsZeroOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, out := start(t, "pause", nil)
			if line, err := out.ReadString('\n'); line != "ready\n" {
				t.Fatalf("pause wrote %q (%v), want ready", line, err)
			}
			stop(t, cmd, sig)
		})
	}
}

// TestReapsAsPid1 runs the pause loop as pid 1 of a new pid namespace
// (root, or an unprivileged user namespace, is needed; the test is skipped
// otherwise) and checks that an orphaned grandchild does not stay a zombie.
func TestReapsAsPid1(t *testing.T) {
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	if os.Getuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	cmd, out := start(t, "init", attr)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the report of pid 1: %v", err)
	}
	if line != "reaped\n" {
		t.Fatalf("pid 1 reported %q, want every child reaped", strings.TrimSpace(line))
	}
	stop(t, cmd, syscall.SIGTERM)
}
