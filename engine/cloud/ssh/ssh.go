package ssh

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

const provider = api.ProviderSSH

// Defaults.
const (
	DefaultUser        = "root"
	DefaultPort        = 22
	DefaultInstallDir  = api.DefaultSSHInstallDir
	DefaultDialTimeout = 10 * time.Second
	DefaultStopGrace   = 10 * time.Second
)

// Options configure an ssh Cloud.
type Options struct {
	// Hosts are the hosts machines are made on: a name or address, with
	// ":port" when it is not Port. One machine per host.
	Hosts []string
	// User logs in (default DefaultUser). Anyone but root needs write
	// access to InstallDir, and gets a supervised process, not a unit.
	User string
	// Port is the SSH port of hosts that name none (default DefaultPort).
	Port int
	// PrivateKey is the PEM private key the cloud authenticates with
	// (required; not passphrase-protected).
	PrivateKey cloud.Secret
	// HostKeys pin the hosts' keys: authorized_keys lines (any host may
	// present the key) or known_hosts lines (the hosts named may). Required
	// unless InsecureIgnoreHostKey.
	HostKeys []string
	// InsecureIgnoreHostKey accepts any host key: only when said
	// explicitly, for hosts on a network the user trusts.
	InsecureIgnoreHostKey bool
	// InstallDir is the agent's directory on every host (absolute; default
	// DefaultInstallDir).
	InstallDir string
	// Binary is the local path of the maestro binary to install (required).
	Binary string
	// AgentArgs are more `maestro agent` flags (--runtime, --infra-image...).
	AgentArgs []string
	// DialTimeout bounds the TCP connect and SSH handshake to a host
	// (default DefaultDialTimeout): an unreachable host fails that fast.
	DialTimeout time.Duration
	// StopGrace is Delete's SIGTERM -> SIGKILL delay (default DefaultStopGrace).
	StopGrace time.Duration
	Logger    *slog.Logger
}

// Cloud is the ssh cloud.Cloud.
type Cloud struct {
	opts     Options
	layout   layout
	signer   ssh.Signer
	hostKeys hostKeys
	binSum   string // sha256 of Options.Binary, hex
	log      *slog.Logger

	mu    sync.Mutex
	hosts map[string]*sync.Mutex // serializes Create and Delete per host within this process
}

var (
	_ cloud.Cloud     = (*Cloud)(nil)
	_ cloud.LogReader = (*Cloud)(nil)
)

// New checks opts and returns a Cloud. It does not contact any host. Its
// errors name the field and never show the key.
func New(opts Options) (*Cloud, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey([]byte(opts.PrivateKey.Reveal()))
	if err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, errors.New("ssh: Options.PrivateKey: protected by a passphrase, which is not supported")
		}
		return nil, fmt.Errorf("ssh: Options.PrivateKey: not a PEM private key (%v)", err)
	}
	hk, err := parseHostKeys(opts.HostKeys, opts.InsecureIgnoreHostKey)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("ssh: Options.Binary: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cloud{opts: opts, layout: layout{root: opts.InstallDir}, signer: signer, hostKeys: hk,
		binSum: sum, log: log.With("cloud", provider), hosts: map[string]*sync.Mutex{}}, nil
}

func (o *Options) setDefaults() error {
	if len(o.Hosts) == 0 {
		return errors.New("ssh: Options.Hosts: required")
	}
	seen := map[string]bool{}
	for i, h := range o.Hosts {
		switch {
		case h == "":
			return fmt.Errorf("ssh: Options.Hosts[%d]: empty", i)
		case seen[h]:
			return fmt.Errorf("ssh: Options.Hosts[%d]: %q listed twice", i, h)
		}
		seen[h] = true
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("ssh: Options.Port %d: must be between 1 and 65535", o.Port)
	}
	if o.PrivateKey == "" {
		return errors.New("ssh: Options.PrivateKey: required")
	}
	if o.InstallDir == "" {
		o.InstallDir = DefaultInstallDir
	}
	if !path.IsAbs(o.InstallDir) || path.Clean(o.InstallDir) == "/" {
		return fmt.Errorf("ssh: Options.InstallDir %q: want an absolute directory other than /", o.InstallDir)
	}
	o.InstallDir = path.Clean(o.InstallDir)
	if o.Binary == "" {
		return errors.New("ssh: Options.Binary: required (the maestro binary to install)")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	return nil
}

// binSums caches binaries' checksums by path, size and modification time:
// a Cloud is cheap to make again, a binary of tens of MB is not to hash.
var binSums sync.Map

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", p)
	}
	key := fmt.Sprintf("%s|%d|%d", p, st.Size(), st.ModTime().UnixNano())
	if s, ok := binSums.Load(key); ok {
		return s.(string), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	s := hex.EncodeToString(h.Sum(nil))
	binSums.Store(key, s)
	return s, nil
}

// hostLock is the mutex of host.
func (c *Cloud) hostLock(host string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.hosts[host]
	if m == nil {
		m = &sync.Mutex{}
		c.hosts[host] = m
	}
	return m
}

func (c *Cloud) configured(host string) bool { return slices.Contains(c.opts.Hosts, host) }

// A machine's ID is <dir>@<host>: dir (<name>-<8 hex>) is its directory on
// the host, host one of Options.Hosts.
func machineID(dir, host string) string { return dir + "@" + host }

// parseID splits an ID; ok is false for an ID this cloud never made.
func parseID(id string) (dir, host string, ok bool) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '@' {
			dir, host = id[:i], id[i+1:]
			return dir, host, validDir(dir) && host != ""
		}
	}
	return "", "", false
}

func validDir(d string) bool {
	if d == "" || len(d) > 300 || d[0] == '.' || d[0] == '-' {
		return false
	}
	for _, ch := range d {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

func newDir(name string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return name + "-" + hex.EncodeToString(b)
}

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}
