package supervise

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBackoffNext(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Second, Stable: time.Minute}
	for _, tt := range []struct {
		name      string
		prev, ran time.Duration
		want      time.Duration
	}{
		{"first restart", 0, time.Millisecond, time.Second},
		{"quick exit doubles", time.Second, time.Millisecond, 2 * time.Second},
		{"capped", 4 * time.Second, time.Millisecond, 5 * time.Second},
		{"stays capped", 5 * time.Second, time.Second, 5 * time.Second},
		{"a stable run resets", 5 * time.Second, time.Minute, time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Next(tt.prev, tt.ran); got != tt.want {
				t.Errorf("Next(%s, %s) = %s, want %s", tt.prev, tt.ran, got, tt.want)
			}
		})
	}
}

// A child that dies is started again; stopping the supervisor stops the
// child, which is then gone.
func TestRunRestartsAndStops(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("sleep: %v", err)
	}
	started := make(chan int, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Command: []string{sleep, "300"},
			Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Stable: time.Minute},
			Started: func(pid int) { started <- pid },
		})
	}()
	first := waitPid(t, started)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := waitPid(t, started)
	if second == first {
		t.Fatalf("restarted child has the dead one's pid %d", first)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := syscall.Kill(second, 0); err == nil {
		t.Errorf("child %d still runs after the supervisor stopped", second)
	}
}

func waitPid(t *testing.T, ch <-chan int) int {
	t.Helper()
	select {
	case pid := <-ch:
		return pid
	case <-time.After(10 * time.Second):
		t.Fatal("no child started")
		return 0
	}
}

// A command that cannot start fails at once rather than looping.
func TestRunMissingBinary(t *testing.T) {
	err := Run(context.Background(), Options{Command: []string{"/nonexistent/maestro", "server"}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/maestro") {
		t.Fatalf("err = %v, want an error naming the binary", err)
	}
}
