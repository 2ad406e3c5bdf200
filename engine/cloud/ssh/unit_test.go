package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// newKey returns an ed25519 private key in PEM and its public key.
func newKey(t *testing.T) ([]byte, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), signer.PublicKey()
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// TestNewRejects: bad options fail New naming the field, never showing the
// key.
func TestNewRejects(t *testing.T) {
	keyPEM, pub := newKey(t)
	bin := filepath.Join(t.TempDir(), "maestro")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(mustRaw(t, keyPEM), "", []byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	valid := func() Options {
		return Options{Hosts: []string{"10.0.0.1", "10.0.0.2:2222"}, PrivateKey: cloud.Secret(keyPEM),
			HostKeys: []string{authorized(pub)}, Binary: bin}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   string // "" for valid
	}{
		{"valid", func(*Options) {}, ""},
		{"insecure without host keys", func(o *Options) { o.HostKeys, o.InsecureIgnoreHostKey = nil, true }, ""},
		{"no hosts", func(o *Options) { o.Hosts = nil }, "Options.Hosts: required"},
		{"empty host", func(o *Options) { o.Hosts = []string{""} }, "Options.Hosts[0]"},
		{"host twice", func(o *Options) { o.Hosts = []string{"a", "a"} }, "Options.Hosts[1]"},
		{"bad port", func(o *Options) { o.Port = 70000 }, "Options.Port"},
		{"no key", func(o *Options) { o.PrivateKey = "" }, "Options.PrivateKey: required"},
		{"not a key", func(o *Options) { o.PrivateKey = cloud.Secret(strings.Replace(string(keyPEM), "A", "B", 5)) }, "Options.PrivateKey"},
		{"encrypted key", func(o *Options) { o.PrivateKey = cloud.Secret(pem.EncodeToMemory(encrypted)) }, "passphrase"},
		{"no host keys", func(o *Options) { o.HostKeys = nil }, "Options.HostKeys: required"},
		{"bad host key line", func(o *Options) { o.HostKeys = []string{"ssh-ed25519 not-base64!"} }, "Options.HostKeys[0]"},
		{"relative install dir", func(o *Options) { o.InstallDir = "var/lib/x" }, "Options.InstallDir"},
		{"install dir /", func(o *Options) { o.InstallDir = "/" }, "Options.InstallDir"},
		{"no binary", func(o *Options) { o.Binary = "" }, "Options.Binary: required"},
		{"missing binary", func(o *Options) { o.Binary = bin + "-missing" }, "Options.Binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.mutate(&o)
			_, err := New(o)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err = %v, want it to name %q", err, tc.want)
			}
			for _, line := range strings.Split(string(keyPEM), "\n")[1:3] {
				if strings.Contains(err.Error(), line) {
					t.Errorf("error shows the private key: %v", err)
				}
			}
		})
	}
}

func mustRaw(t *testing.T, keyPEM []byte) ed25519.PrivateKey {
	t.Helper()
	k, err := ssh.ParseRawPrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return *k.(*ed25519.PrivateKey)
}

// TestHostKeyCheck: which presented keys each pinning form accepts.
func TestHostKeyCheck(t *testing.T) {
	_, hostKey := newKey(t)
	_, otherKey := newKey(t)
	remote := &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 22}
	for _, tc := range []struct {
		name     string
		lines    []string
		insecure bool
		host     string
		key      ssh.PublicKey
		ok       bool
		reason   string
	}{
		{"authorized_keys form, any host", []string{authorized(hostKey)}, false, "10.0.0.5:22", hostKey, true, ""},
		{"authorized_keys form, other key", []string{authorized(otherKey)}, false, "10.0.0.5:22", hostKey, false, "not among the pinned"},
		{"known_hosts line of the host", []string{"10.0.0.5 " + authorized(hostKey)}, false, "10.0.0.5:22", hostKey, true, ""},
		{"known_hosts line with a port", []string{"[10.0.0.5]:2222 " + authorized(hostKey)}, false, "10.0.0.5:2222", hostKey, true, ""},
		{"known_hosts line, port 22 vs 2222", []string{"10.0.0.5 " + authorized(hostKey)}, false, "10.0.0.5:2222", hostKey, false, "not among the pinned"},
		{"known_hosts line of another host", []string{"10.0.0.6 " + authorized(hostKey)}, false, "10.0.0.5:22", hostKey, false, "not among the pinned"},
		{"known_hosts line, another key", []string{"10.0.0.5 " + authorized(otherKey)}, false, "10.0.0.5:22", hostKey, false, "not the key pinned for it"},
		{"hashed known_hosts line", []string{knownhosts.HashHostname("10.0.0.5") + " " + authorized(hostKey)}, false, "10.0.0.5:22", hostKey, true, ""},
		{"pattern", []string{"10.0.0.* " + authorized(hostKey)}, false, "10.0.0.5:22", hostKey, true, ""},
		{"revoked", []string{"@revoked * " + authorized(hostKey), authorized(otherKey)}, false, "10.0.0.5:22", hostKey, false, "revoked"},
		{"comments and blank lines", []string{"# pinned", "", authorized(hostKey)}, false, "10.0.0.5:22", hostKey, true, ""},
		{"insecure", nil, true, "10.0.0.5:22", otherKey, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hk, err := parseHostKeys(tc.lines, tc.insecure)
			if err != nil {
				t.Fatal(err)
			}
			err = hk.check(tc.host, remote, tc.key)
			if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.reason)) {
				t.Fatalf("check = %v, want ok %v (%s)", err, tc.ok, tc.reason)
			}
			if err != nil && !strings.Contains(err.Error(), ssh.FingerprintSHA256(tc.key)) {
				t.Errorf("error %q does not show the presented key's fingerprint", err)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		id, dir, host string
		ok            bool
	}{
		{"m1-0a1b2c3d@10.0.0.1", "m1-0a1b2c3d", "10.0.0.1", true},
		{"m1-0a1b2c3d@10.0.0.1:2222", "m1-0a1b2c3d", "10.0.0.1:2222", true},
		{"m1-0a1b2c3d@host@x", "", "", false}, // dir "m1-0a1b2c3d@host" is not a directory name
		{"no-such-machine", "", "", false},
		{"@10.0.0.1", "", "", false},
		{"../etc@10.0.0.1", "", "", false},
		{"m1@", "", "", false},
	} {
		dir, host, ok := parseID(tc.id)
		if ok != tc.ok || ok && (dir != tc.dir || host != tc.host) {
			t.Errorf("parseID(%q) = %q, %q, %v; want %q, %q, %v", tc.id, dir, host, ok, tc.dir, tc.host, tc.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	created := time.Now().UTC().Truncate(time.Millisecond)
	rec := `{"id":"m1-00000000@h1","name":"m1","cluster":"c1","pool":"p1","host":"h1","keyHash":"k","createdAt":"` + created.Format(time.RFC3339Nano) + `"}`
	old := strings.Replace(rec, created.Format(time.RFC3339Nano), created.Add(-2*pendingTimeout).Format(time.RFC3339Nano), 1)
	for _, tc := range []struct {
		name, out string
		want      cloud.State
	}{
		{"running", "--- m1-00000000 running yes no\n" + rec + "\n", cloud.StateRunning},
		{"process gone", "--- m1-00000000 stopped yes no\n" + rec + "\n", cloud.StateTerminated},
		{"not started yet", "--- m1-00000000 stopped no no\n" + rec + "\n", cloud.StatePending},
		{"never started", "--- m1-00000000 stopped no no\n" + old + "\n", cloud.StateTerminated},
		{"deleting", "--- m1-00000000 running yes yes\n" + rec + "\n", cloud.StateStopping},
	} {
		sts, err := parseStatus([]byte(tc.out))
		if err != nil || len(sts) != 1 {
			t.Fatalf("%s: parseStatus = %+v, %v", tc.name, sts, err)
		}
		if got := sts[0].state(); got != tc.want || sts[0].Name != "m1" || !sts[0].CreatedAt.Equal(created) && tc.name != "never started" {
			t.Errorf("%s: state %q (record %+v), want %q", tc.name, got, sts[0].record, tc.want)
		}
	}
	for _, bad := range []string{"garbage\n", "--- m1 running yes no\n", "--- m1 running yes no\n{not json\n"} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("parseStatus(%q): no error", bad)
		}
	}
}

func TestParseClaim(t *testing.T) {
	rec := `{"id":"m1-00000000@h1","name":"m1","cluster":"c1","pool":"p1","host":"h1","keyHash":"k","createdAt":"2026-01-01T00:00:00Z"}`
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, out string
		want      claimResult
		recorded  bool
	}{
		{"claimed, no binary", "claimed\n", claimResult{claimed: true}, false},
		{"claimed, binary", "claimed\nbinary " + sum + "  -\n", claimResult{claimed: true, binSum: sum}, false},
		{"owned", "owner m1-00000000\n--- m1-00000000 running yes no\n" + rec + "\nbinary " + sum + "  -\n",
			claimResult{owner: "m1-00000000", binSum: sum}, true},
		{"owned, not recorded yet", "owner m1-00000000\n", claimResult{owner: "m1-00000000"}, false},
	} {
		got, err := parseClaim([]byte(tc.out))
		if err != nil || got.claimed != tc.want.claimed || got.owner != tc.want.owner || got.binSum != tc.want.binSum ||
			(got.status != nil) != tc.recorded {
			t.Errorf("%s: parseClaim = %+v, %v; want %+v (recorded %v)", tc.name, got, err, tc.want, tc.recorded)
		}
	}
}

// TestUnitFile: the unit runs the agent's exact argv (quoted for systemd),
// restarts it, and appends its output to the machine's log.
func TestUnitFile(t *testing.T) {
	u := unitFile("m1-00000000@h1", []string{"/var/lib/maestro-agent/bin/maestro-0123", "agent", "--labels", `a=b c,d="e"`, "--x", "50%$HOME"},
		"/var/lib/maestro-agent/machines/m1-00000000/agent.log", 10*time.Second)
	for _, want := range []string{
		`ExecStart="/var/lib/maestro-agent/bin/maestro-0123" "agent" "--labels" "a=b c,d=\"e\"" "--x" "50%%$$HOME"` + "\n",
		"Restart=always\n", "TimeoutStopSec=10\n", "WantedBy=multi-user.target\n",
		"StandardOutput=append:/var/lib/maestro-agent/machines/m1-00000000/agent.log\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("unit file lacks %q:\n%s", want, u)
		}
	}
}

// TestHostKeyAlgorithms: the handshake asks for the pinned keys' kinds.
func TestHostKeyAlgorithms(t *testing.T) {
	_, ed := newKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		lines    []string
		insecure bool
		want     []string
	}{
		{"ed25519", []string{authorized(ed)}, false, []string{"ssh-ed25519"}},
		{"rsa, known_hosts", []string{"10.0.0.5 " + authorized(rsaPub)}, false, []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"both, twice", []string{authorized(ed), authorized(rsaPub), "h " + authorized(ed)}, false,
			[]string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
		{"revoked only counts as no pin", []string{"@revoked * " + authorized(rsaPub), authorized(ed)}, false, []string{"ssh-ed25519"}},
		{"insecure", []string{authorized(ed)}, true, nil},
	} {
		hk, err := parseHostKeys(tc.lines, tc.insecure)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hk.algorithms, tc.want) {
			t.Errorf("%s: algorithms %v, want %v", tc.name, hk.algorithms, tc.want)
		}
	}
}
