//go:build linux

package testbed

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/vishvananda/netns"
)

// Namespace is one network namespace of the test bed (a host, a site's
// switch, the router): commands, processes and Go code run inside it.
type Namespace struct {
	tb   *Testbed
	name string // the namespace's name under /run/netns
	// path, when set, is the namespace's file instead (/proc/<pid>/ns/net
	// of a pod's infra process): the bed did not make it and only enters it.
	path string
}

// Name is the namespace's name under /run/netns (ip netns exec NAME ...),
// or its file for a namespace from ProcessNamespace.
func (n *Namespace) Name() string {
	if n.path != "" {
		return n.path
	}
	return n.name
}

// ProcessNamespace is the network namespace process pid lives in (a pod's
// infra process, say), for running Go code and commands inside a pod's
// network. The bed only enters it: its owner removes it.
func (tb *Testbed) ProcessNamespace(pid int) *Namespace {
	return &Namespace{tb: tb, path: fmt.Sprintf("/proc/%d/ns/net", pid)}
}

// open opens the namespace's handle.
func (n *Namespace) open() (netns.NsHandle, error) {
	if n.path != "" {
		return netns.GetFromPath(n.path)
	}
	return netns.GetFromName(n.name)
}

// Exec runs a command inside the namespace and returns its standard
// output; on failure the error carries standard error too. It is for short
// commands (ip route, ss, cat /proc/sys/...); long-running ones use Start.
func (n *Namespace) Exec(ctx context.Context, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", fmt.Errorf("testbed: exec in %s: empty command", n.Name())
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ipPath, append([]string{"netns", "exec", n.name}, argv...)...)
	if n.path != "" {
		cmd = exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + n.path, "--"}, argv...)...)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("testbed: %s in %s: %w: %s", strings.Join(argv, " "), n.Name(), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Do runs fn on an OS thread switched into the namespace, and switches
// the thread back after. It is how Go test code opens sockets "from" a
// host. Caveats, all from Linux keeping the network namespace per thread:
//
//   - Only the calling thread is switched: goroutines fn starts run in the
//     test process's namespace.
//   - A socket keeps the namespace it was created in: a listener or
//     connection made inside fn stays in the namespace after fn returns
//     and may be used from any goroutine (that is how Listen and Dial work).
//   - Use IP literals: name resolution may run on other goroutines.
//   - /sys and /proc/net paths opened inside fn are not reliable views of
//     the namespace; use Exec (ip, ss) or netlink sockets.
//   - fn runs on a goroutine of its own: it must not call t.FailNow or
//     t.Fatal (a panic is carried back to the caller's goroutine).
//
// If the thread cannot be switched back it is discarded (left locked, so
// the Go runtime ends it), never reused in the wrong namespace.
func (n *Namespace) Do(fn func() error) error {
	type result struct {
		err      error
		panicked any
		stack    []byte
		exited   bool
	}
	done := make(chan result, 1)
	go func() {
		res := result{exited: true} // stays true if fn calls runtime.Goexit
		defer func() { done <- res }()
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			res = result{err: fmt.Errorf("testbed: opening this thread's namespace: %w", err)}
			return
		}
		defer orig.Close()
		target, err := n.open()
		if err != nil {
			runtime.UnlockOSThread()
			res = result{err: fmt.Errorf("testbed: opening namespace %s: %w", n.Name(), err)}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			res = result{err: fmt.Errorf("testbed: entering namespace %s: %w", n.Name(), err)}
			return
		}
		defer func() {
			if err := netns.Set(orig); err != nil {
				// Leave the thread locked: it ends with this goroutine.
				res.err = fmt.Errorf("testbed: leaving namespace %s: %w", n.Name(), err)
				return
			}
			runtime.UnlockOSThread()
		}()
		defer func() {
			if p := recover(); p != nil {
				res = result{panicked: p, stack: debug.Stack()}
			}
		}()
		res = result{err: fn()}
	}()
	res := <-done
	switch {
	case res.panicked != nil:
		panic(fmt.Sprintf("testbed: panic inside namespace %s: %v\n%s", n.Name(), res.panicked, res.stack))
	case res.exited:
		return fmt.Errorf("testbed: the function run in namespace %s called runtime.Goexit (t.FailNow?); use errors", n.Name())
	}
	return res.err
}

// DialContext connects from inside the namespace (address: an IP literal
// and port). The connection may be used from any goroutine.
func (n *Namespace) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// Listen opens a stream listener inside the namespace ("tcp",
// "10.213.0.1:8080" or ":0").
func (n *Namespace) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := n.Do(func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// ListenPacket opens a packet listener (UDP) inside the namespace.
func (n *Namespace) ListenPacket(network, address string) (net.PacketConn, error) {
	var c net.PacketConn
	err := n.Do(func() error {
		var err error
		c, err = net.ListenPacket(network, address)
		return err
	})
	return c, err
}

// HTTPClient is an HTTP client whose connections start inside the
// namespace (URLs with IP literals). Its idle connections are closed when
// the test bed is cleaned up.
func (n *Namespace) HTTPClient() *http.Client {
	tr := &http.Transport{DialContext: n.DialContext}
	n.tb.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// Pids are the processes running inside the namespace now (ip netns pids).
func (n *Namespace) Pids(ctx context.Context) ([]int, error) {
	out, err := ip(ctx, "netns", "pids", n.Name())
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("testbed: ip netns pids %s: %q is not a pid", n.Name(), f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
