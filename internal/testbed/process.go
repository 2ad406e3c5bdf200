//go:build linux

package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a program started inside a namespace of the test bed, its
// standard output and error going to a log file.
type Process struct {
	// Name is the name given to Start (it names the log file).
	Name string
	// LogPath is the file holding the process's standard output and error.
	LogPath string

	ns    *Namespace
	cmd   *exec.Cmd
	grace time.Duration
	done  chan struct{}
	err   error // Wait's result, set before done closes
	stop  sync.Once
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Start runs argv inside the namespace (through `ip netns exec`, which
// execs the program itself: the process is argv[0], not a wrapper), with
// the test process's environment plus env ("KEY=value"; later entries
// win), its output appended to a log file of the test bed. The process
// runs until ctx ends, Stop is called or the test bed is cleaned up; each
// of those sends SIGTERM to its process group and SIGKILL after the test
// bed's StopGrace. If the test process dies first, the kernel kills the
// process (parent-death signal).
func (n *Namespace) Start(ctx context.Context, name string, argv []string, env []string) (*Process, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("testbed: starting %q in %s: empty command", name, n.name)
	}
	logPath, err := n.tb.newLogPath(n.name, name)
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testbed: opening the log of %q: %w", name, err)
	}
	defer logFile.Close() // the child holds its own copy
	cmd := exec.Command(ipPath, append([]string{"netns", "exec", n.name}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{Name: name, LogPath: logPath, ns: n, cmd: cmd, grace: n.tb.opts.StopGrace, done: make(chan struct{})}
	if err := n.tb.spawn(cmd.Start); err != nil {
		return nil, fmt.Errorf("testbed: starting %q (%s) in %s: %w", name, argv[0], n.name, err)
	}
	n.tb.track(p)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	p.waitEntered()
	go func() {
		select {
		case <-ctx.Done():
			p.Stop()
		case <-p.done:
		}
	}()
	return p, nil
}

// waitEntered returns once the process is in its namespace: `ip netns
// exec` switches after it starts, so until then /proc/<pid>/ns/net is the
// test process's (a ProcessNamespace read that early names the wrong
// network). It gives up after 5 s or when the process ends.
func (p *Process) waitEntered() {
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cur, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.Pid()))
		if err != nil || cur != own {
			return
		}
		select {
		case <-p.done:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// Pid is the process's id (in the test process's pid namespace).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended (nil: exit status 0); only meaningful after
// Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return errors.New("testbed: process still running")
	}
}

// Signal sends sig to the process group (SIGKILL to emulate a crash).
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := syscall.Kill(-p.Pid(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("testbed: signalling %q: %w", p.Name, err)
	}
	return nil
}

// Stop sends SIGTERM to the process group, SIGKILL after the grace period,
// and waits for the process to end. It returns how the process ended;
// ending by the signals Stop sent is not an error.
func (p *Process) Stop() error {
	p.stop.Do(func() {
		_ = p.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(p.grace):
			_ = p.Signal(syscall.SIGKILL)
			<-p.done
		}
	})
	<-p.done
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() &&
			(ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGKILL) {
			return nil
		}
	}
	return p.err
}

// Log is the process's output so far.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", p.LogPath, err)
	}
	return string(b)
}

// tail is the last n lines of the process's output.
func (p *Process) tail(n int) string {
	lines := strings.SplitAfter(p.Log(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// newLogPath is a fresh log file name for process name in namespace ns.
func (tb *Testbed) newLogPath(ns, name string) (string, error) {
	base := unsafeFileChars.ReplaceAllString(strings.TrimPrefix(ns, tb.run+"-")+"-"+name, "_")
	for i := 0; ; i++ {
		p := filepath.Join(tb.logDir, base+".log")
		if i > 0 {
			p = filepath.Join(tb.logDir, fmt.Sprintf("%s.%d.log", base, i))
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("testbed: creating a log file: %w", err)
		}
		f.Close()
		return p, nil
	}
}

// spawner starts every process of a test bed from one OS thread that
// lives as long as the test bed. The parent-death signal (Pdeathsig)
// fires when the thread that forked a child ends, not the process; a
// thread of its own, ended only after every child is stopped, makes the
// signal mean "the test process died".
type spawner struct {
	mu     sync.Mutex
	closed bool
	reqs   chan func()
	ended  chan struct{}
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func()), ended: make(chan struct{})}
	go func() {
		// Never unlocked: the runtime ends the thread with this goroutine.
		runtime.LockOSThread()
		defer close(s.ended)
		for f := range s.reqs {
			f()
		}
	}()
	return s
}

// run calls start on the spawner's thread.
func (s *spawner) run(start func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("the test bed is cleaned up")
	}
	errc := make(chan error, 1)
	s.reqs <- func() { errc <- start() }
	return <-errc
}

func (s *spawner) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.reqs)
		<-s.ended
	}
}
