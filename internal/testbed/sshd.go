//go:build linux

package testbed

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// SSHDPath is where Debian's openssh-server puts sshd
// (scripts/install-deps.sh installs it).
const SSHDPath = "/usr/sbin/sshd"

// SSHD is a real OpenSSH server running inside a host.
type SSHD struct {
	*Process
	// Host is where the server runs.
	Host *Host
	// Addr is where it listens: the host's address, port 22 by default.
	Addr netip.AddrPort
	// HostKey is the server's public host key in authorized_keys form
	// ("ssh-ed25519 AAAA..."), for a client to pin.
	HostKey string
	// Dir holds the server's config, host key, authorized_keys and pid file.
	Dir string
}

// SSHDOptions adjust StartSSHD.
type SSHDOptions struct {
	// AuthorizedKeys are the public keys (authorized_keys lines) that may
	// log in as root.
	AuthorizedKeys []string
	// Port is the port to listen on (default 22).
	Port int
}

// SSHKey is a client key pair for tests.
type SSHKey struct {
	// PrivatePEM is the private key in OpenSSH PEM form (as ssh-keygen
	// writes it).
	PrivatePEM []byte
	// Authorized is the public key as an authorized_keys line.
	Authorized string
}

// NewSSHKey makes a fresh ed25519 key pair.
func NewSSHKey(t testing.TB) SSHKey {
	t.Helper()
	priv, pub, err := newEd25519()
	if err != nil {
		t.Fatal(err)
	}
	return SSHKey{PrivatePEM: priv, Authorized: pub}
}

// newEd25519 returns an OpenSSH PEM private key and its authorized_keys
// line.
func newEd25519() (privPEM []byte, authorized string, err error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, "", err
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, "", err
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}

// StartSSHD runs Debian's sshd (`sshd -D -e -f <config>`) inside the host,
// listening on the host's address: a fresh ed25519 host key, root login
// with the given keys only (PermitRootLogin prohibit-password, no
// passwords, no PAM), its config, key and pid file in a directory of its
// own. It returns once the server accepts connections from the test
// process; the test bed stops it at cleanup. Without sshd the test fails
// under CI=true and is skipped loudly otherwise.
func (h *Host) StartSSHD(opts SSHDOptions) *SSHD {
	t := h.tb.t
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		testreq.Missing(t, "%s: %v (apt-get install openssh-server; scripts/install-deps.sh does)", SSHDPath, err)
	}
	if opts.Port == 0 {
		opts.Port = 22
	}
	// sshd's privilege separation directory (Debian's packaging makes it at
	// boot, not at install).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	s := &SSHD{Host: h, Addr: netip.AddrPortFrom(h.Addr, uint16(opts.Port)), Dir: filepath.Join(h.tb.logDir, "sshd-"+h.Name)}
	cfg, err := s.writeFiles(opts)
	if err != nil {
		t.Fatalf("testbed: sshd in %s: %v", h, err)
	}
	p, err := h.Start(context.Background(), "sshd", []string{SSHDPath, "-D", "-e", "-f", cfg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Process = p
	if err := s.waitListening(30 * time.Second); err != nil {
		t.Fatalf("testbed: sshd in %s: %v\n%s", h, err, p.tail(40))
	}
	return s
}

// writeFiles writes the host key, authorized_keys and sshd_config; it
// returns the config's path.
func (s *SSHD) writeFiles(opts SSHDOptions) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", err
	}
	priv, pub, err := newEd25519()
	if err != nil {
		return "", err
	}
	s.HostKey = pub
	keyPath := filepath.Join(s.Dir, "ssh_host_ed25519_key")
	authPath := filepath.Join(s.Dir, "authorized_keys")
	cfgPath := filepath.Join(s.Dir, "sshd_config")
	config := strings.Join([]string{
		"Port " + strconv.Itoa(opts.Port),
		"ListenAddress " + s.Host.Addr.String(),
		"HostKey " + keyPath,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + authPath,
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		// The directory is under /tmp (world-writable): StrictModes would
		// refuse authorized_keys there.
		"StrictModes no",
		"UseDNS no",
		"PrintMotd no",
		"LogLevel VERBOSE",
	}, "\n") + "\n"
	for _, f := range []struct {
		path string
		data string
	}{
		{keyPath, string(priv)},
		{authPath, strings.Join(opts.AuthorizedKeys, "\n") + "\n"},
		{cfgPath, config},
	} {
		if err := os.WriteFile(f.path, []byte(f.data), 0o600); err != nil {
			return "", err
		}
	}
	return cfgPath, nil
}

// waitListening polls the server's port from the test process.
func (s *SSHD) waitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.Done():
			return fmt.Errorf("exited: %v", s.Err())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr.String(), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s after %v: %v", s.Addr, timeout, last)
}
