//go:build linux

package testbed

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
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
	// HostKey is the server's ed25519 public host key in authorized_keys
	// form ("ssh-ed25519 AAAA..."), for a client to pin.
	HostKey string
	// HostKeys are all its host keys, ed25519 (HostKey) then ECDSA, as a
	// Debian host has several.
	HostKeys []string
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
	// Systemctl, when set, makes the host look like one where systemd
	// runs, for code that installs units: sshd (and so every session) runs
	// in a mount namespace of its own where /run is a fresh tmpfs holding
	// /run/systemd/system, /etc/systemd/system is an empty tmpfs, and
	// systemctl is this program (a stand-in the test provides, first on
	// the sessions' PATH in /usr/local/sbin). Nothing outside changes.
	Systemctl string
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
	return keyPair(key)
}

// newECDSA is newEd25519 for an ECDSA P-256 key.
func newECDSA() (privPEM []byte, authorized string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	return keyPair(key)
}

func keyPair(key crypto.Signer) (privPEM []byte, authorized string, err error) {
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
// listening on the host's address: fresh ed25519 and ECDSA host keys, root
// login with the given keys only (PermitRootLogin prohibit-password, no
// passwords, no PAM), its config, keys and pid file in a directory of its
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
	argv := []string{SSHDPath, "-D", "-e", "-f", cfg}
	if opts.Systemctl != "" {
		for _, d := range []string{"/etc/systemd/system", "/usr/local/sbin"} {
			if st, err := os.Stat(d); err != nil || !st.IsDir() {
				testreq.Missing(t, "%s: not a directory (%v): needed as a mount point to emulate systemd", d, err)
			}
		}
		argv = withSystemd(opts.Systemctl, argv)
	}
	p, err := h.Start(context.Background(), "sshd", argv, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Process = p
	if err := s.waitListening(30 * time.Second); err != nil {
		t.Fatalf("testbed: sshd in %s: %v\n%s", h, err, p.tail(40))
	}
	return s
}

// withSystemd wraps argv to run in a private mount namespace that looks
// like a systemd host, with systemctl as its systemctl.
func withSystemd(systemctl string, argv []string) []string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := `set -e
mount -t tmpfs maestro-testbed /run
mkdir -p /run/sshd /run/systemd/system
mount -t tmpfs maestro-testbed /etc/systemd/system
mount -t tmpfs maestro-testbed /usr/local/sbin
cp "$0" /usr/local/sbin/systemctl
chmod 755 /usr/local/sbin/systemctl
exec ` + strings.Join(q, " ")
	return []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, systemctl}
}

// writeFiles writes the host key, authorized_keys and sshd_config; it
// returns the config's path.
func (s *SSHD) writeFiles(opts SSHDOptions) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{}
	var hostKeyLines []string
	for _, k := range []struct {
		name string
		gen  func() ([]byte, string, error)
	}{{"ed25519", newEd25519}, {"ecdsa", newECDSA}} {
		priv, pub, err := k.gen()
		if err != nil {
			return "", err
		}
		path := filepath.Join(s.Dir, "ssh_host_"+k.name+"_key")
		files[path] = string(priv)
		s.HostKeys = append(s.HostKeys, pub)
		hostKeyLines = append(hostKeyLines, "HostKey "+path)
	}
	s.HostKey = s.HostKeys[0]
	authPath := filepath.Join(s.Dir, "authorized_keys")
	cfgPath := filepath.Join(s.Dir, "sshd_config")
	config := strings.Join([]string{
		"Port " + strconv.Itoa(opts.Port),
		"ListenAddress " + s.Host.Addr.String(),
		strings.Join(hostKeyLines, "\n"),
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
	files[authPath] = strings.Join(opts.AuthorizedKeys, "\n") + "\n"
	files[cfgPath] = config
	for path, data := range files {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
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
