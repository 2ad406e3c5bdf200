package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Remote reaches hosts the way the cloud does, for other packages that
// install software on them (internal/remoteserver puts the control plane
// there): the same key authentication, host key pinning, errors naming the
// host and the SSH error, and the same checksummed binary upload. It is
// made from Options like a Cloud (Options.Binary is what Upload sends).
type Remote struct{ c *Cloud }

// NewRemote checks opts as New does; it contacts no host.
func NewRemote(opts Options) (*Remote, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	return &Remote{c: c}, nil
}

// BinarySHA256 is the hex sha256 of Options.Binary.
func (r *Remote) BinarySHA256() string { return r.c.binSum }

// Session is one SSH connection to a host.
type Session struct {
	r  *Remote
	cn *conn
}

// Dial connects to host (one of Options.Hosts) within the dial timeout. Its
// errors name the host as user@host:port and say why: "unreachable"
// (cloud.ErrTransient), "authentication failed" or "host key mismatch"
// (cloud.ErrInvalid). op names the operation in them.
func (r *Remote) Dial(ctx context.Context, op, host string) (*Session, error) {
	if !r.c.configured(host) {
		return nil, fmt.Errorf("%w: host %q: not one of the hosts (%s)", cloud.ErrInvalid, host, strings.Join(r.c.opts.Hosts, ", "))
	}
	cn, err := r.c.dial(ctx, op, host)
	if err != nil {
		return nil, err
	}
	return &Session{r: r, cn: cn}, nil
}

// String is the host as user@host:port.
func (s *Session) String() string { return s.cn.t.String() }

// Close closes the connection.
func (s *Session) Close() error { return s.cn.Close() }

// Run runs script with sh on the host, stdin (if any) as its standard
// input, and returns its standard output. A failure names the host, op,
// what was being done and the script's standard error: scripts must take
// secrets on their standard input, never on their command line, and never
// print them.
func (s *Session) Run(ctx context.Context, op, what, script string, stdin io.Reader) ([]byte, error) {
	return s.cn.run(ctx, op, what, script, stdin)
}

// ExitStatus is the exit status of the script behind a Run error, or -1
// when the script did not run to an exit (no connection, a signal).
func ExitStatus(err error) int {
	var exit interface{ ExitStatus() int }
	if errors.As(err, &exit) {
		return exit.ExitStatus()
	}
	return -1
}

// Upload puts Options.Binary at dest on the host (mode 0755), unless a
// file with its checksum already is there. It reports whether it sent it.
func (s *Session) Upload(ctx context.Context, op, dest string) (bool, error) {
	out, err := s.Run(ctx, op, "checking "+dest, "if [ -f "+quote(dest)+" ]; then sha256sum < "+quote(dest)+"; fi", nil)
	if err != nil {
		return false, err
	}
	if f := strings.Fields(string(out)); len(f) > 0 && f[0] == s.r.c.binSum {
		return false, nil
	}
	if err := s.r.c.upload(ctx, s.cn, dest); err != nil {
		return false, err
	}
	return true, nil
}

// Quote quotes a word for a POSIX shell.
func Quote(word string) string { return quote(word) }

// ProcessShellFuncs are the shell functions the cloud's scripts use to
// find a supervised process, for other scripts to share: `alive PID START`
// holds while PID is the process that started at START (its start time
// in /proc/PID/stat: a reused PID is not it), `group_alive PGID` while a live
// (not zombie) process of group PGID runs.
const ProcessShellFuncs = shellFuncs

// SystemdUnit is a unit file like the agent's: argv restarted whenever it
// exits, its output appended to logPath, SIGTERM then SIGKILL after grace.
func SystemdUnit(description string, argv []string, logPath string, grace time.Duration) string {
	u := unitFile("", argv, logPath, grace)
	return strings.Replace(u, "Description=maestro agent of machine \n", "Description="+description+"\n", 1)
}
