//go:build linux

package remoteserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// bed is emulated hosts each running a real sshd that lets key in.
type bed struct {
	tb    *testbed.Testbed
	hosts []*testbed.Host
	sshds []*testbed.SSHD
	key   testbed.SSHKey
}

func newBed(t testing.TB, n int, opts ...testbed.SSHDOptions) *bed {
	t.Helper()
	var o testbed.SSHDOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	b := &bed{tb: testbed.New(t, testbed.Options{Prefix: "mrcp", StopGrace: 2 * time.Second}), key: testbed.NewSSHKey(t)}
	site := b.tb.AddSite("a")
	for i := range n {
		h := b.tb.AddHost(site, fmt.Sprintf("h%d", i+1))
		b.hosts = append(b.hosts, h)
		o.AuthorizedKeys = []string{b.key.Authorized}
		b.sshds = append(b.sshds, h.StartSSHD(o))
	}
	return b
}

// spec is a Spec for the bed's hosts, pinning their keys, installing under
// a fresh directory (the hosts share this machine's filesystem), logging
// to log.
func (b *bed) spec(t testing.TB, log *testenv.SyncBuffer) Spec {
	s := Spec{PrivateKey: cloud.Secret(b.key.PrivatePEM), Binary: testenv.BuildBinary(t, "./cmd/maestro"),
		InstallDir: filepath.Join(t.TempDir(), "cp"), DialTimeout: 5 * time.Second, StopGrace: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for i, h := range b.hosts {
		s.Hosts = append(s.Hosts, h.Addr.String())
		s.HostKeys = append(s.HostKeys, b.sshds[i].HostKey)
	}
	return s
}

func newInstaller(t testing.TB, s Spec) *Installer {
	t.Helper()
	in, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := in.Delete(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return in
}

func adminClient(t *testing.T, endpoint string, r Result) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Server: endpoint, CertificateAuthorityData: r.CACertificate, Token: r.Token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertGone checks that the install dir is gone and that only sshd runs
// in each host.
func assertGone(t *testing.T, b *bed, s Spec) {
	t.Helper()
	if _, err := os.Stat(s.InstallDir); !errors.Is(err, os.ErrNotExist) {
		out, _ := exec.Command("find", s.InstallDir).CombinedOutput()
		t.Errorf("install dir left behind (%v):\n%s", err, out)
	}
	for i, h := range b.hosts {
		pids, err := h.Pids(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == b.sshds[i].Pid() })
		for _, p := range pids {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			if len(cmdline) > 0 && !strings.Contains(string(cmdline), "sshd") {
				t.Errorf("host %s: process %d still runs: %s", h.Name, p, strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
}

func containsKey(s string, key []byte) bool {
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) > 16 && strings.Contains(s, line) {
			return true
		}
	}
	return false
}

// TestSingleHost installs a control plane on one host over SSH: its API
// answers at the endpoint (a namespace is created), a second Create adopts
// it (same server process, same token), Delete leaves nothing on the host.
// A wrong key fails naming the host and never shows the key.
func TestSingleHost(t *testing.T) {
	b := newBed(t, 1)
	log := &testenv.SyncBuffer{}
	s := b.spec(t, log)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	wrong := s
	wrong.PrivateKey = cloud.Secret(testbed.NewSSHKey(t).PrivatePEM)
	bad, err := New(wrong)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Create(ctx)
	want := "ssh root@" + s.Hosts[0] + ":22: authentication failed"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrNothingInstalled) || containsKey(err.Error(), []byte(wrong.PrivateKey.Reveal())) {
		t.Fatalf("Create with a wrong key: %v, want an error containing %q", err, want)
	}

	closed := s
	closed.Hosts = []string{s.Hosts[0] + ":2"} // nothing listens there
	if bad, err = New(closed); err != nil {
		t.Fatal(err)
	}
	failStart := time.Now()
	_, err = bad.Create(ctx)
	want = "ssh root@" + s.Hosts[0] + ":2: unreachable"
	if err == nil || !strings.Contains(err.Error(), want) || time.Since(failStart) > 10*time.Second {
		t.Fatalf("Create on a port without sshd: %v after %v, want an error containing %q at once", err, time.Since(failStart), want)
	}

	in := newInstaller(t, s)
	start := time.Now()
	r, err := in.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("control plane on one host ready in %v", time.Since(start).Round(time.Millisecond))
	if want := "https://" + s.Hosts[0] + ":6443"; r.Endpoint != want || len(r.Endpoints) != 1 || r.Token == "" {
		t.Fatalf("Create = endpoint %q endpoints %v (token set: %v), want endpoint %s", r.Endpoint, r.Endpoints, r.Token != "", want)
	}
	c := adminClient(t, r.Endpoint, r)
	if _, err := c.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "over-ssh"}}); err != nil {
		t.Fatalf("creating a namespace through %s: %v", r.Endpoint, err)
	}
	pid, err := os.ReadFile(filepath.Join(s.layout(s.Hosts[0]).root, "server.pid"))
	if err != nil {
		t.Fatal(err)
	}

	again, err := in.Create(ctx)
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	pid2, _ := os.ReadFile(filepath.Join(s.layout(s.Hosts[0]).root, "server.pid"))
	if again.Token != r.Token || again.Endpoint != r.Endpoint || string(pid2) != string(pid) {
		t.Errorf("second Create did not adopt the running server: pid %q -> %q, same token %v", pid, pid2, again.Token == r.Token)
	}
	if n := strings.Count(log.String(), "binary uploaded"); n != 1 {
		t.Errorf("binary uploaded %d times by two Creates, want once (its checksum matches the second time)", n)
	}
	if !strings.Contains(log.String(), "server already runs: adopted") {
		t.Errorf("second Create did not log the adoption:\n%s", log.String())
	}
	if st := in.Status(ctx); !st.Installed() || st.Hosts[0].Server != "running" || st.Result.Token != r.Token {
		t.Errorf("Status = %+v, want the server running with the same token", st.Hosts)
	}

	if err := in.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, b, s)
	if st := in.Status(ctx); st.Installed() || st.Unreachable() != nil {
		t.Errorf("Status after Delete = %+v, want nothing installed", st.Hosts)
	}
	if containsKey(log.String(), b.key.PrivatePEM) || strings.Contains(log.String(), r.Token) {
		t.Error("the private key or the admin token is in the log")
	}
}

// TestHAControlPlane installs an HA control plane on three hosts (etcd
// cluster and three servers); with one host's link cut, the others keep
// answering (a config map is written and read through each); Delete
// leaves nothing on any host.
func TestHAControlPlane(t *testing.T) {
	if _, err := exec.LookPath("etcd"); err != nil {
		testreq.Missing(t, "etcd not installed: apt-get install etcd-server")
	}
	b := newBed(t, 3)
	log := &testenv.SyncBuffer{}
	s := b.spec(t, log)
	in := newInstaller(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	r, err := in.Create(ctx)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	t.Logf("HA control plane on three hosts ready in %v", time.Since(start).Round(time.Millisecond))
	if len(r.Endpoints) != 3 || r.Endpoint != r.Endpoints[0] {
		t.Fatalf("endpoints %v, endpoint %s: want one per host, the first first", r.Endpoints, r.Endpoint)
	}
	cms := func(c *client.Client) client.Resource[*api.ConfigMap] { return c.ConfigMaps(api.NamespaceDefault) }
	if _, err := cms(adminClient(t, r.Endpoints[0], r)).Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "before"}, Data: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}

	if err := b.hosts[0].CutLink(ctx); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	t.Cleanup(func() { _ = b.hosts[0].RestoreLink(context.Background()) })
	for i, ep := range r.Endpoints[1:] {
		c := adminClient(t, ep, r)
		name := fmt.Sprintf("after-%d", i+1)
		var last error
		for {
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			_, last = cms(c).Create(cctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name}, Data: map[string]string{"k": name}})
			if last == nil || api.IsAlreadyExists(last) {
				var got *api.ConfigMap
				got, last = cms(c).Get(cctx, name)
				if last == nil && got.Data["k"] != name {
					last = fmt.Errorf("read back %v", got.Data)
				}
				if last == nil {
					_, last = cms(c).Get(cctx, "before")
				}
			}
			ccancel()
			if last == nil {
				break
			}
			if n := time.Since(cut); n%(5*time.Second) < 200*time.Millisecond {
				t.Logf("%s after %v: %v", ep, n.Round(time.Millisecond), last)
			}
			// A member's vanished host is noticed by the etcd clients'
			// keepalive (5 s + 3 s) and etcd elects a new leader in about
			// a second: 30 s leaves room for a loaded machine.
			if time.Since(cut) > 30*time.Second {
				t.Fatalf("%s: no write and read within 30 s of the cut: %v", ep, last)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s wrote and read %s %v after the cut", ep, name, time.Since(cut).Round(time.Millisecond))
	}
	if err := b.hosts[0].RestoreLink(ctx); err != nil {
		t.Fatal(err)
	}
	if err := in.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, b, s)
	if containsKey(log.String(), b.key.PrivatePEM) || strings.Contains(log.String(), r.Token) {
		t.Error("the private key or the admin token is in the log")
	}
}

// TestHANeedsEtcd: hosts without the etcd binary fail Create naming each
// host, before anything is installed.
func TestHANeedsEtcd(t *testing.T) {
	b := newBed(t, 3)
	s := b.spec(t, &testenv.SyncBuffer{})
	s.EtcdBinary = "etcd-not-installed"
	in := newInstaller(t, s)
	_, err := in.Create(t.Context())
	if !errors.Is(err, ErrNothingInstalled) {
		t.Fatalf("Create without etcd on the hosts: %v, want an error saying nothing was installed", err)
	}
	for _, h := range s.Hosts {
		if want := "ssh root@" + h + ":22: etcd-not-installed is not installed"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if _, err := os.Stat(s.InstallDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create without etcd installed something: %v", err)
	}
}

// TestSingleHostSystemd: where systemd runs, the server is the unit
// maestro-server-<host>.service (no supervisor), enabled and started; the
// API answers; Delete disables the unit and removes its file. Systemd is
// emulated as in engine/cloud/ssh's TestSystemdUnit (its stand-in
// systemctl runs the unit's ExecStart): this checks the installer's side.
func TestSingleHostSystemd(t *testing.T) {
	systemctl, err := filepath.Abs("../../engine/cloud/ssh/testdata/systemctl")
	if err != nil {
		t.Fatal(err)
	}
	b := newBed(t, 1, testbed.SSHDOptions{Systemctl: systemctl})
	s := b.spec(t, &testenv.SyncBuffer{})
	in := newInstaller(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	remote := func(script string) string {
		t.Helper()
		sess, err := in.remote.Dial(ctx, "test", s.Hosts[0])
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		out, err := sess.Run(ctx, "test", "test", script, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	r, err := in.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unit := "maestro-server-" + s.Hosts[0] + ".service"
	root := s.layout(s.Hosts[0]).root
	if got, _ := os.ReadFile(filepath.Join(root, "server.unit")); strings.TrimSpace(string(got)) != unit {
		t.Errorf("server.unit names %q, want %s", got, unit)
	}
	if _, err := os.Stat(filepath.Join(root, "server.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a supervisor started on a systemd host (server.pid: %v)", err)
	}
	if text := remote("cat /etc/systemd/system/" + unit); !strings.Contains(text, `ExecStart="`+filepath.Join(root, "bin", "maestro")+`" "server"`) {
		t.Errorf("unit text:\n%s", text)
	}
	if _, _, err := adminClient(t, r.Endpoint, r).Namespaces().List(ctx, client.ListOptions{}); err != nil {
		t.Fatalf("API of the unit's server: %v", err)
	}
	if st := in.Status(ctx); st.Hosts[0].Server != "running" {
		t.Errorf("Status while the unit is active: %+v", st.Hosts[0])
	}
	if err := in.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := remote("cat /run/systemd/fake/calls"); !strings.Contains(calls, "enable --now --quiet "+unit+"\n") ||
		!strings.Contains(calls, "disable --now --quiet "+unit+"\ndaemon-reload\n") {
		t.Errorf("systemctl calls:\n%s\nwant enable --now, then disable --now and daemon-reload", calls)
	}
	if left := remote("ls -A /etc/systemd/system"); left != "" {
		t.Errorf("unit files left: %s", left)
	}
	assertGone(t, b, s)
}

// BenchmarkCreate measures Create of a control plane on one host over SSH
// (binary upload included: each round installs into a fresh directory)
// until its API is ready (create-s), and Delete (delete-s). Run it with
// -benchtime 3x.
func BenchmarkCreate(b *testing.B) {
	bd := newBed(b, 1)
	var create, del time.Duration
	for i := 0; b.Loop(); i++ {
		s := bd.spec(b, &testenv.SyncBuffer{})
		s.InstallDir = filepath.Join(b.TempDir(), fmt.Sprint("cp", i))
		in := newInstaller(b, s)
		start := time.Now()
		if _, err := in.Create(b.Context()); err != nil {
			b.Fatal(err)
		}
		create += time.Since(start)
		start = time.Now()
		if err := in.Delete(b.Context()); err != nil {
			b.Fatal(err)
		}
		del += time.Since(start)
	}
	b.ReportMetric(create.Seconds()/float64(b.N), "create-s")
	b.ReportMetric(del.Seconds()/float64(b.N), "delete-s")
}
