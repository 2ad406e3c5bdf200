package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"
)

// Options say what to run and how to restart it.
type Options struct {
	// Command is the child's argv (Command[0] looked up in $PATH).
	Command []string
	// Stdout and Stderr receive the child's output (nil: discarded).
	Stdout, Stderr *os.File
	// Backoff is the restart delay policy (zero: DefaultBackoff).
	Backoff Backoff
	// StopGrace is how long the child has to exit after SIGTERM before it
	// is killed (default 30 s).
	StopGrace time.Duration
	// Started is called with the pid of every child started (may be nil).
	Started func(pid int)
	Log     *slog.Logger
}

// Backoff is the delay before a restart: Initial after a child that ran
// less than Stable, doubling per quick exit up to Max; a child that ran
// Stable or longer restarts after Initial again.
type Backoff struct {
	Initial, Max, Stable time.Duration
}

// DefaultBackoff restarts after 1 s, 2 s, 4 s ... up to 30 s, back to 1 s
// once the child ran for a minute.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, Stable: time.Minute}

// Next is the delay before the next start, given the previous delay and
// how long the child just ran. It is pure, for tests.
func (b Backoff) Next(prev, ran time.Duration) time.Duration {
	if prev <= 0 || ran >= b.Stable {
		return b.Initial
	}
	next := prev * 2
	if next > b.Max {
		next = b.Max
	}
	return next
}

// Run starts the child and restarts it whenever it exits, until ctx ends;
// then it stops the child and returns nil. It returns an error only when
// the child cannot be started at all the first time (a missing binary),
// so a wrong path fails at once instead of looping.
func Run(ctx context.Context, o Options) error {
	if len(o.Command) == 0 {
		return errors.New("supervise: no command")
	}
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var delay time.Duration
	for first := true; ; first = false {
		cmd := exec.Command(o.Command[0], o.Command[1:]...)
		if o.Stdout != nil {
			cmd.Stdout = o.Stdout
		}
		if o.Stderr != nil {
			cmd.Stderr = o.Stderr
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			if first {
				return fmt.Errorf("supervise: starting %s: %w", o.Command[0], err)
			}
			o.Log.Error("child did not start", "command", o.Command[0], "err", err)
		} else {
			o.Log.Info("child started", "pid", cmd.Process.Pid, "command", o.Command[0])
			if o.Started != nil {
				o.Started(cmd.Process.Pid)
			}
			if stopped := waitOrStop(ctx, cmd, o.StopGrace, o.Log); stopped {
				return nil
			}
		}
		delay = o.Backoff.Next(delay, time.Since(start))
		o.Log.Warn("child exited; restarting", "command", o.Command[0], "ran", time.Since(start).Round(time.Millisecond), "delay", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

// waitOrStop waits for the child to exit; when ctx ends first it stops the
// child (SIGTERM, SIGKILL after grace) and reports true.
func waitOrStop(ctx context.Context, cmd *exec.Cmd, grace time.Duration, log *slog.Logger) bool {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		log.Warn("child exited", "pid", cmd.Process.Pid, "err", err)
		return ctx.Err() != nil
	case <-ctx.Done():
	}
	_ = terminate(cmd.Process)
	select {
	case <-done:
	case <-time.After(grace):
		log.Warn("child did not stop in time; killing it", "pid", cmd.Process.Pid, "grace", grace)
		_ = cmd.Process.Kill()
		<-done
	}
	log.Info("child stopped", "pid", cmd.Process.Pid)
	return true
}
