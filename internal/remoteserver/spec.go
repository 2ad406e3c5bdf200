package remoteserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/ssh"
)

// Defaults.
const (
	DefaultInstallDir = "/var/lib/maestro-server"
	DefaultAPIPort    = 6443
	// EtcdClientPort and EtcdPeerPort are the HA etcd members' ports.
	EtcdClientPort = 2379
	EtcdPeerPort   = 2380
)

// Spec says where the control plane goes and how to reach the hosts.
type Spec struct {
	// Hosts are one host, or three (HA): a name or address, with ":port"
	// when its SSH port is not Port. The first host is the endpoint.
	Hosts []string
	// User, Port, PrivateKey, HostKeys, InsecureIgnoreHostKey and
	// DialTimeout are as in engine/cloud/ssh.Options.
	User                  string
	Port                  int
	PrivateKey            cloud.Secret
	HostKeys              []string
	InsecureIgnoreHostKey bool
	DialTimeout           time.Duration
	// InstallDir holds a directory per host (default DefaultInstallDir).
	InstallDir string
	// APIPort is the port the API servers listen on (default DefaultAPIPort).
	APIPort int
	// Binary is the local maestro binary to install (required).
	Binary string
	// EtcdBinary is the etcd the HA hosts run: a name looked up in the
	// hosts' PATH (then /usr/bin), or an absolute path (default "etcd").
	EtcdBinary string
	// ServerArgs are more `maestro server` flags.
	ServerArgs []string
	// StopGrace is how long a stopped server or etcd has before SIGKILL
	// (default 10 s).
	StopGrace time.Duration
	Logger    *slog.Logger
}

// HA reports whether s is a three-host control plane.
func (s Spec) HA() bool { return len(s.Hosts) == 3 }

func (s *Spec) setDefaults() error {
	if n := len(s.Hosts); n != 1 && n != 3 {
		return fmt.Errorf("hosts: %d given: one host, or three for an HA control plane", n)
	}
	if s.InstallDir == "" {
		s.InstallDir = DefaultInstallDir
	}
	if !path.IsAbs(s.InstallDir) || path.Clean(s.InstallDir) == "/" {
		return fmt.Errorf("install_dir %q: want an absolute directory other than /", s.InstallDir)
	}
	s.InstallDir = path.Clean(s.InstallDir)
	if s.APIPort == 0 {
		s.APIPort = DefaultAPIPort
	}
	if s.APIPort < 1 || s.APIPort > 65535 {
		return fmt.Errorf("api_port %d: must be between 1 and 65535", s.APIPort)
	}
	if s.Binary == "" {
		return errors.New("binary: required (the maestro binary to install)")
	}
	if s.EtcdBinary == "" {
		s.EtcdBinary = "etcd"
	}
	if s.StopGrace <= 0 {
		s.StopGrace = 10 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func (s Spec) sshOptions() ssh.Options {
	return ssh.Options{Hosts: s.Hosts, User: s.User, Port: s.Port, PrivateKey: s.PrivateKey, HostKeys: s.HostKeys,
		InsecureIgnoreHostKey: s.InsecureIgnoreHostKey, InstallDir: s.InstallDir, Binary: s.Binary,
		DialTimeout: s.DialTimeout, StopGrace: s.StopGrace, Logger: s.Logger}
}

// address is host without its SSH port: what the API and etcd advertise.
func address(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// tag is host as a file and unit name.
func tag(host string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
}

// layout is where things are on one host.
type layout struct{ root string }

func (s Spec) layout(host string) layout { return layout{root: path.Join(s.InstallDir, tag(host))} }

func (l layout) join(p ...string) string { return path.Join(append([]string{l.root}, p...)...) }
func (l layout) binary() string          { return l.join("bin", "maestro") }

// secretFiles are the files the HA hosts share: the encryption key, the
// cluster and node CAs, the etcd CA (relative to a host's directory).
var secretFiles = []string{
	"encryption.key",
	"data/pki/ca.crt", "data/pki/ca.key", "data/pki/node-ca.crt", "data/pki/node-ca.key",
	"etcd-pki/etcd-ca.crt", "etcd-pki/etcd-ca.key",
}

// memberFiles are an etcd member's own TLS files, under etcd-pki.
var memberFiles = []string{
	"etcd-server.crt", "etcd-server.key", "etcd-peer.crt", "etcd-peer.key", "etcd-client.crt", "etcd-client.key",
}

// url is scheme://host:port.
func url(host string, port int) string {
	return "https://" + net.JoinHostPort(address(host), strconv.Itoa(port))
}

// serverArgv is `maestro server` on host.
func (s Spec) serverArgv(host string) []string {
	l := s.layout(host)
	argv := []string{l.binary(), "server",
		"--data-dir", l.join("data"),
		"--listen", net.JoinHostPort("0.0.0.0", strconv.Itoa(s.APIPort)),
		"--advertise-address", address(host),
		"--client-config", l.join("admin.conf"),
		"--encryption-key-file", l.join("encryption.key"),
	}
	if s.HA() {
		var eps []string
		for _, h := range s.Hosts {
			eps = append(eps, url(h, EtcdClientPort))
		}
		argv = append(argv, "--etcd-endpoints", strings.Join(eps, ","),
			"--etcd-cafile", l.join("etcd-pki", "etcd-ca.crt"),
			"--etcd-certfile", l.join("etcd-pki", "etcd-client.crt"),
			"--etcd-keyfile", l.join("etcd-pki", "etcd-client.key"))
	}
	return append(argv, s.ServerArgs...)
}

// memberName is host's etcd member name.
func memberName(host string) string { return "maestro-" + tag(host) }

// clusterToken names the etcd cluster of these hosts.
func (s Spec) clusterToken() string {
	h := sha256.Sum256([]byte(strings.Join(s.Hosts, ",")))
	return "maestro-" + hex.EncodeToString(h[:6])
}

// etcdArgv is the etcd member on host, etcd being the binary's path there.
func (s Spec) etcdArgv(etcd, host string) []string {
	l := s.layout(host)
	pki := func(f string) string { return l.join("etcd-pki", f) }
	var initial []string
	for _, h := range s.Hosts {
		initial = append(initial, memberName(h)+"="+url(h, EtcdPeerPort))
	}
	return []string{etcd,
		"--name", memberName(host),
		"--data-dir", l.join("etcd"),
		"--listen-client-urls", "https://" + net.JoinHostPort("0.0.0.0", strconv.Itoa(EtcdClientPort)),
		"--advertise-client-urls", url(host, EtcdClientPort),
		"--listen-peer-urls", "https://" + net.JoinHostPort("0.0.0.0", strconv.Itoa(EtcdPeerPort)),
		"--initial-advertise-peer-urls", url(host, EtcdPeerPort),
		"--initial-cluster", strings.Join(initial, ","),
		"--initial-cluster-state", "new",
		"--initial-cluster-token", s.clusterToken(),
		"--client-cert-auth", "--trusted-ca-file", pki("etcd-ca.crt"),
		"--cert-file", pki("etcd-server.crt"), "--key-file", pki("etcd-server.key"),
		"--peer-client-cert-auth", "--peer-trusted-ca-file", pki("etcd-ca.crt"),
		"--peer-cert-file", pki("etcd-peer.crt"), "--peer-key-file", pki("etcd-peer.key"),
		"--logger", "zap", "--log-outputs", "stderr",
	}
}

// Describe says what Create installs, one line per step, for a plan.
func Describe(s Spec) ([]string, error) {
	if err := s.setDefaults(); err != nil {
		return nil, err
	}
	user := s.User
	if user == "" {
		user = ssh.DefaultUser
	}
	how := "as a systemd unit where systemd runs (else under `maestro supervise`)"
	lines := []string{fmt.Sprintf("upload the maestro binary (%s) to %s under %s/<host>/bin, as %s over SSH", path.Base(s.Binary),
		strings.Join(s.Hosts, ", "), s.InstallDir, user)}
	if !s.HA() {
		return append(lines, fmt.Sprintf("run maestro server with its embedded etcd on %s, API on port %d, %s", s.Hosts[0], s.APIPort, how)), nil
	}
	return append(lines,
		fmt.Sprintf("run a 3-member etcd cluster (the hosts' etcd binary, TLS among members, ports %d/%d) on %s, %s",
			EtcdClientPort, EtcdPeerPort, strings.Join(s.Hosts, ", "), how),
		fmt.Sprintf("run maestro server on each host (API on port %d) with one shared cluster CA and encryption key, %s", s.APIPort, how)), nil
}
