package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// target is one host as the cloud reaches it.
type target struct {
	host string // as configured (Options.Hosts)
	addr string // host:port dialed
	user string
}

// String is user@host:port, the name every error gives the host by.
func (t target) String() string { return t.user + "@" + t.addr }

// address is the host's address without the port (Machine.Addresses).
func (t target) address() string {
	h, _, err := net.SplitHostPort(t.addr)
	if err != nil {
		return t.addr
	}
	return h
}

func (c *Cloud) target(host string) target {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, fmt.Sprint(c.opts.Port))
	}
	return target{host: host, addr: addr, user: c.opts.User}
}

// conn is one SSH connection to a host.
type conn struct {
	t      target
	client *ssh.Client
}

// fail returns the cloud error of kind for op on host t: "ssh
// user@host:port: what".
func fail(kind error, op string, t target, err error, what string) error {
	return cloud.Wrap(kind, provider, op, err, fmt.Sprintf("ssh %s: %s", t, what))
}

// dial connects and authenticates to host within the dial timeout (TCP
// connect and SSH handshake both), or fails naming the host and why:
// unreachable or handshake trouble is ErrTransient, a refused key or a
// host key that is not pinned is ErrInvalid.
func (c *Cloud) dial(ctx context.Context, op, host string) (*conn, error) {
	t := c.target(host)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ssh %s: %s: %w", t, op, err)
	}
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh %s: %s: %w", t, op, ctx.Err())
		}
		return nil, fail(cloud.ErrTransient, op, t, err, "unreachable")
	}
	deadline := time.Now().Add(c.opts.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	cfg := &ssh.ClientConfig{
		User:              t.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(c.signer)},
		HostKeyCallback:   c.hostKeys.check,
		HostKeyAlgorithms: c.hostKeys.algorithms,
		Timeout:           c.opts.DialTimeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, t.addr, cfg)
	stop()
	if err != nil {
		nc.Close()
		return nil, classify(ctx, op, t, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return &conn{t: t, client: ssh.NewClient(sc, chans, reqs)}, nil
}

// classify names a failed handshake.
func classify(ctx context.Context, op string, t target, err error) error {
	var hk *hostKeyError
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("ssh %s: %s: %w", t, op, ctx.Err())
	case errors.As(err, &hk):
		return fail(cloud.ErrInvalid, op, t, hk, "host key mismatch")
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fail(cloud.ErrInvalid, op, t, err, "authentication failed")
	case errors.As(err, &ne) && ne.Timeout():
		return fail(cloud.ErrTransient, op, t, err, "unreachable: no SSH handshake within the dial timeout")
	}
	return fail(cloud.ErrTransient, op, t, err, "SSH handshake failed")
}

func (cn *conn) Close() error { return cn.client.Close() }

// maxStderr bounds the standard error a failed command's error carries.
const maxStderr = 2048

// run runs script with sh on the host, stdin (if any) as its standard
// input, and returns its standard output. A failure names the host, what
// was being done and the command's standard error (scripts never print
// secrets: they reach the host on standard input only); a lost connection
// is ErrTransient, a command that failed on the host is unclassified (a
// full disk or a missing permission needs a person, not a retry).
func (cn *conn) run(ctx context.Context, op, what, script string, stdin io.Reader) ([]byte, error) {
	sess, err := cn.client.NewSession()
	if err != nil {
		return nil, fail(cloud.ErrTransient, op, cn.t, err, what+": opening a session")
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdin, sess.Stdout, sess.Stderr = stdin, &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run("sh -c " + quote(script)) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		cn.client.Close() // ends the session and the connection
		<-done
		return nil, fmt.Errorf("ssh %s: %s: %s: %w", cn.t, op, what, ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > maxStderr {
			msg = "..." + msg[len(msg)-maxStderr:]
		}
		if msg != "" {
			what += ": " + msg
		}
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("ssh %s: %s: %s: %w", cn.t, op, what, err)
		}
		return nil, fail(cloud.ErrTransient, op, cn.t, err, what)
	}
	return stdout.Bytes(), nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
