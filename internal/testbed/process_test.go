//go:build linux

package testbed

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond every 50ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestStartRunsInsideTheHost(t *testing.T) {
	tb := New(t, Options{StopGrace: 500 * time.Millisecond})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	ctx := context.Background()

	p, err := h.Start(ctx, "addr", []string{"sh", "-c", `ip -4 -o addr show eth0; echo "FOO=$FOO"; exec sleep 600`},
		[]string{"FOO=from-the-test"})
	if err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(p.Log(), "FOO=") }) {
		t.Fatalf("no output in %s: %q", p.LogPath, p.Log())
	}
	if log := p.Log(); !strings.Contains(log, h.Addr.String()) || !strings.Contains(log, "FOO=from-the-test") {
		t.Errorf("log %q: want the host's address %s (it runs in the host) and FOO from env", log, h.Addr)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("Stop of a process that ends on SIGTERM: %v", err)
	}
	if alive(p.Pid()) {
		t.Errorf("pid %d still alive after Stop", p.Pid())
	}

	t.Run("SIGKILL after the grace period", func(t *testing.T) {
		p, err := h.Start(ctx, "stubborn", []string{"sh", "-c", `trap "" TERM; echo ready; sleep 600`}, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(5*time.Second, func() bool { return strings.Contains(p.Log(), "ready") })
		start := time.Now()
		if err := p.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if took := time.Since(start); took < 400*time.Millisecond {
			t.Errorf("a process ignoring SIGTERM stopped after %v, before the 500ms grace period", took)
		}
	})
	t.Run("ends with its context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		p, err := h.Start(cctx, "ctx", []string{"sleep", "600"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		select {
		case <-p.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the process still runs 5s after its context ended")
		}
	})
	t.Run("exit status", func(t *testing.T) {
		p, err := h.Start(ctx, "fails", []string{"sh", "-c", "exit 3"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		<-p.Done()
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
			t.Errorf("Err = %v, want exit status 3", err)
		}
	})
	t.Run("cleanup stops what is left", func(t *testing.T) {
		var pid int
		t.Run("bed", func(t *testing.T) {
			inner := New(t, Options{StopGrace: 500 * time.Millisecond})
			ih := inner.AddHost(inner.AddSite("a"), "h1")
			p, err := ih.Start(ctx, "left", []string{"sleep", "600"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			pid = p.Pid()
		})
		if alive(pid) {
			t.Errorf("pid %d still alive after the test bed's cleanup", pid)
		}
	})
}

func TestExecRunsInsideTheHost(t *testing.T) {
	tb := New(t, Options{})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	out, err := h.Exec(context.Background(), "ip", "-4", "-o", "addr", "show")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, h.Addr.String()) || strings.Contains(out, tb.Run()) {
		t.Errorf("addresses seen inside the host: %q; want %s and not the uplink", out, h.Addr)
	}
	if _, err := h.Exec(context.Background(), "sh", "-c", "echo oops >&2; exit 1"); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Errorf("Exec of a failing command: %v, want an error carrying its stderr", err)
	}
}

// hostAddrs are the IPv4 addresses of the calling thread's namespace.
func hostAddrs() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return strings.Join(s, " "), nil
}

func TestDoSwitchesOnlyItsOwnThread(t *testing.T) {
	tb := New(t, Options{})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	inside := h.Addr.String() + "/24"
	var got string
	if err := h.Do(func() error {
		var err error
		got, err = hostAddrs()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, inside) {
		t.Fatalf("addresses inside Do: %q, want %s", got, inside)
	}
	// Many Do calls, then many goroutines on fresh and reused threads: none
	// may find itself in the host's namespace.
	for range 50 {
		if err := h.Do(func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var leaked []string
	for range 50 {
		wg.Go(func() {
			addrs, err := hostAddrs()
			if err == nil && strings.Contains(addrs, inside) {
				mu.Lock()
				leaked = append(leaked, addrs)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(leaked) > 0 {
		t.Errorf("%d goroutines outside Do ran in the host's namespace", len(leaked))
	}
	err := h.Do(func() error {
		var wg sync.WaitGroup
		wg.Go(func() { got, _ = hostAddrs() })
		wg.Wait()
		return nil
	})
	if err != nil || strings.Contains(got, inside) {
		t.Errorf("a goroutine started inside Do saw %q (%v); want the test process's namespace (documented caveat)", got, err)
	}
	if err := h.Do(func() error { runtime.Goexit(); return nil }); err == nil {
		t.Error("Do of a function calling runtime.Goexit returned no error")
	}
}

func TestProcessNamespaceEntersTheProcessNetwork(t *testing.T) {
	tb := New(t, Options{StopGrace: 500 * time.Millisecond})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	ctx := context.Background()
	p, err := h.Start(ctx, "sleeper", []string{"sleep", "600"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns := tb.ProcessNamespace(p.Pid())
	out, err := ns.Exec(ctx, "ip", "-4", "-o", "addr", "show", "eth0")
	if err != nil || !strings.Contains(out, h.Addr.String()+"/") {
		t.Fatalf("ip addr in the namespace of pid %d: %q, %v; want the host's %s", p.Pid(), out, err, h.Addr)
	}
	l, err := ns.Listen("tcp", net.JoinHostPort(h.Addr.String(), "0"))
	if err != nil {
		t.Fatalf("listening on the host's address from its process's namespace: %v", err)
	}
	l.Close()
}
