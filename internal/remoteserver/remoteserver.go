package remoteserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/ssh"
	"github.com/maestro-dev/maestro/internal/localserver"
)

// Result is what a client needs: the first host's API URL (Endpoint), every
// host's (Endpoints), the cluster CA and an admin token. Token is a secret.
type Result struct {
	Endpoint      string
	Endpoints     []string
	CACertificate string
	Token         string
}

// Installer installs, reads and removes the control plane of one Spec.
type Installer struct {
	spec   Spec
	remote *ssh.Remote
	log    *slog.Logger
}

// New checks spec; it contacts no host. Its errors name the setting and
// never show the key.
func New(spec Spec) (*Installer, error) {
	if err := spec.setDefaults(); err != nil {
		return nil, err
	}
	r, err := ssh.NewRemote(spec.sshOptions())
	if err != nil {
		return nil, err
	}
	return &Installer{spec: spec, remote: r, log: spec.Logger.With("component", "remoteserver")}, nil
}

// hostConn is one host during an operation.
type hostConn struct {
	host string
	l    layout
	s    *ssh.Session
	st   hostState
}

// forEach runs fn on every host at once and joins their errors.
func forEach(hs []*hostConn, fn func(h *hostConn) error) error {
	errs := make([]error, len(hs))
	var wg sync.WaitGroup
	for i, h := range hs {
		wg.Go(func() { errs[i] = fn(h) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// dialAll connects to every host; it fails naming each host it cannot
// reach or log in to.
func (in *Installer) dialAll(ctx context.Context, op string) ([]*hostConn, func(), error) {
	hs := make([]*hostConn, len(in.spec.Hosts))
	for i, h := range in.spec.Hosts {
		hs[i] = &hostConn{host: h, l: in.spec.layout(h)}
	}
	closeAll := func() {
		for _, h := range hs {
			if h.s != nil {
				h.s.Close()
			}
		}
	}
	err := forEach(hs, func(h *hostConn) error {
		s, err := in.remote.Dial(ctx, op, h.host)
		h.s = s
		return err
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return hs, closeAll, nil
}

// ErrNothingInstalled marks a Create error that came before anything was
// written to any host (a host unreachable, a refused key, no etcd): there
// is nothing to remove.
var ErrNothingInstalled = errors.New("nothing was installed")

// Create installs and starts the control plane, adopting what already
// runs, and waits until every host's API server is ready (until ctx ends).
func (in *Installer) Create(ctx context.Context) (Result, error) {
	hs, closeAll, err := in.dialAll(ctx, "create")
	if err != nil {
		return Result{}, fmt.Errorf("%w (%w)", err, ErrNothingInstalled)
	}
	defer closeAll()
	if err := in.preflight(ctx, hs); err != nil {
		return Result{}, fmt.Errorf("%w (%w)", err, ErrNothingInstalled)
	}
	rec := []file{{name: "install.json", data: []byte(recordJSON(in.spec) + "\n")}}
	err = forEach(hs, func(h *hostConn) error {
		if _, err := h.s.Run(ctx, "create", "writing install.json", writeFilesScript(h.l.root, rec, true), filesInput(rec)); err != nil {
			return err
		}
		_, err := h.s.Upload(ctx, "create", h.l.binary()) // logs "binary uploaded" when it sends it
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if in.spec.HA() {
		if err := in.startEtcd(ctx, hs); err != nil {
			return Result{}, err
		}
	}
	err = forEach(hs, func(h *hostConn) error {
		if h.st.server == "running" {
			in.log.Info("server already runs: adopted", "host", h.s.String())
			return nil
		}
		return in.start(ctx, h, procServer, in.spec.serverArgv(h.host))
	})
	if err != nil {
		return Result{}, err
	}
	return in.waitReady(ctx, hs)
}

// preflight reads each host's state and refuses hosts that cannot take
// the control plane: part of another one, or (HA) without etcd.
func (in *Installer) preflight(ctx context.Context, hs []*hostConn) error {
	want := recordJSON(in.spec)
	return forEach(hs, func(h *hostConn) error {
		out, err := h.s.Run(ctx, "create", "checking the host", h.l.preflightScript(in.spec.EtcdBinary), nil)
		if err != nil {
			return err
		}
		if h.st, err = parsePreflight(out); err != nil {
			return fmt.Errorf("ssh %s: checking the host: %w", h.s, err)
		}
		if h.st.record != "" && h.st.record != want {
			return fmt.Errorf("ssh %s: %s already holds another control plane (install.json: %s, want %s): destroy it first, or choose another install_dir",
				h.s, h.l.root, h.st.record, want)
		}
		if in.spec.HA() && h.st.etcdBin == "" {
			return fmt.Errorf("ssh %s: %s is not installed (not in PATH nor /usr/bin): an HA control plane runs the hosts' etcd; install it (Debian: apt-get install etcd-server)", h.s, in.spec.EtcdBinary)
		}
		return nil
	})
}

// startEtcd shares the cluster's keys among the hosts, gives each its etcd
// member certificates and starts the members not running yet.
func (in *Installer) startEtcd(ctx context.Context, hs []*hostConn) error {
	secrets, err := in.shareSecrets(ctx, hs)
	if err != nil {
		return err
	}
	return forEach(hs, func(h *hostConn) error {
		leaves, err := memberCerts(secrets, address(h.host))
		if err != nil {
			return fmt.Errorf("ssh %s: etcd member certificates: %w", h.s, err)
		}
		if _, err := h.s.Run(ctx, "create", "writing the etcd member certificates", writeFilesScript(h.l.root, leaves, false), filesInput(leaves)); err != nil {
			return err
		}
		if h.st.etcd == "running" {
			in.log.Info("etcd already runs: adopted", "host", h.s.String())
			return nil
		}
		return in.start(ctx, h, procEtcd, in.spec.etcdArgv(h.st.etcdBin, h.host))
	})
}

// start runs process name on h (a unit or a supervised process).
func (in *Installer) start(ctx context.Context, h *hostConn, name string, argv []string) error {
	run := h.l.runScript(name, argv)
	unit := ssh.SystemdUnit("maestro "+name+" of the control plane on "+h.host, argv, h.l.logPath(name), in.spec.StopGrace)
	out, err := h.s.Run(ctx, "create", "starting "+name, h.l.startScript(name, unitName(name, h.host), len(run), len(unit)),
		strings.NewReader(run+unit))
	if err != nil {
		return err
	}
	in.log.Info("started", "process", name, "host", h.s.String(), "as", strings.TrimSpace(string(out)))
	return nil
}

// waitReady waits until every host wrote its client config and answers
// /readyz from here.
func (in *Installer) waitReady(ctx context.Context, hs []*hostConn) (Result, error) {
	cfgs := make([]client.Config, len(hs))
	err := forEach(hs, func(h *hostConn) error {
		i := indexOf(hs, h)
		var last error = errors.New("no client config yet")
		for {
			cfg, err := in.readConfig(ctx, h)
			if err == nil {
				if err = localserver.Ready(ctx, cfg); err == nil {
					cfgs[i] = cfg
					return nil
				}
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("ssh %s: maestro server not ready: %w (last: %v)%s", h.s, ctx.Err(), last, in.logTail(h))
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	if err != nil {
		return Result{}, err
	}
	return result(cfgs), nil
}

func indexOf(hs []*hostConn, h *hostConn) int {
	for i := range hs {
		if hs[i] == h {
			return i
		}
	}
	return -1
}

func result(cfgs []client.Config) Result {
	r := Result{Endpoint: cfgs[0].Server, CACertificate: cfgs[0].CertificateAuthorityData, Token: cfgs[0].Token}
	for _, c := range cfgs {
		r.Endpoints = append(r.Endpoints, c.Server)
	}
	return r
}

// errNoConfig is a host without a client config (yet).
var errNoConfig = errors.New("no client config written yet")

// readConfig reads h's admin client config. Its errors never carry the
// token.
func (in *Installer) readConfig(ctx context.Context, h *hostConn) (client.Config, error) {
	out, err := h.s.Run(ctx, "read", "reading admin.conf", h.l.readConfigScript(), nil)
	if ssh.ExitStatus(err) == 3 {
		return client.Config{}, errNoConfig
	}
	if err != nil {
		return client.Config{}, err
	}
	cfg, err := client.ParseConfig(out)
	if err != nil {
		return client.Config{}, fmt.Errorf("ssh %s: %s: %w", h.s, h.l.join("admin.conf"), err)
	}
	return cfg, nil
}

// logTail is the last lines of the logs on h, for an error.
func (in *Installer) logTail(h *hostConn) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b bytes.Buffer
	names := []string{procServer}
	if in.spec.HA() {
		names = append(names, procEtcd)
	}
	for _, n := range names {
		if out, err := h.s.Run(ctx, "create", "reading "+n+".log", h.l.logTailScript(n, 15), nil); err == nil && len(out) > 0 {
			fmt.Fprintf(&b, "\nlast lines of %s:\n%s", h.l.logPath(n), bytes.TrimRight(out, "\n"))
		}
	}
	return b.String()
}

// HostStatus is one host as Status found it.
type HostStatus struct {
	Host         string
	Server, Etcd string // running, stopped or absent
	Err          error  // the host could not be asked
}

// Status is the control plane as its hosts tell.
type Status struct {
	Hosts []HostStatus
	// Result is read from the hosts that run a server (zero when none).
	Result Result
}

// Installed reports whether any host that answered holds the control
// plane (a server or an etcd member, running or not).
func (s Status) Installed() bool {
	for _, h := range s.Hosts {
		if h.Err == nil && (h.Server != "absent" || h.Etcd != "absent") {
			return true
		}
	}
	return false
}

// Unreachable lists the hosts that did not answer, with why.
func (s Status) Unreachable() error {
	var errs []error
	for _, h := range s.Hosts {
		if h.Err != nil {
			errs = append(errs, h.Err)
		}
	}
	return errors.Join(errs...)
}

// Status asks every host what runs, and reads the client configs of those
// whose server runs.
func (in *Installer) Status(ctx context.Context) Status {
	st := Status{Hosts: make([]HostStatus, len(in.spec.Hosts))}
	cfgs := make([]*client.Config, len(in.spec.Hosts))
	var wg sync.WaitGroup
	for i, host := range in.spec.Hosts {
		wg.Go(func() {
			st.Hosts[i], cfgs[i] = in.hostStatus(ctx, host)
		})
	}
	wg.Wait()
	var got []client.Config
	for _, c := range cfgs {
		if c != nil {
			got = append(got, *c)
		}
	}
	if len(got) > 0 {
		st.Result = result(got)
	}
	return st
}

func (in *Installer) hostStatus(ctx context.Context, host string) (HostStatus, *client.Config) {
	hs := HostStatus{Host: host}
	s, err := in.remote.Dial(ctx, "read", host)
	if err != nil {
		hs.Err = err
		return hs, nil
	}
	defer s.Close()
	h := &hostConn{host: host, l: in.spec.layout(host), s: s}
	out, err := s.Run(ctx, "read", "checking the host", h.l.preflightScript(in.spec.EtcdBinary), nil)
	if err == nil {
		h.st, err = parsePreflight(out)
	}
	if err != nil {
		hs.Err = err
		return hs, nil
	}
	hs.Server, hs.Etcd = h.st.server, h.st.etcd
	if h.st.server != "running" {
		return hs, nil
	}
	cfg, err := in.readConfig(ctx, h)
	if err != nil {
		return hs, nil
	}
	return hs, &cfg
}

// Delete stops and removes what Create installed on every host. A host
// it cannot reach fails it, naming the host; the others are cleaned.
func (in *Installer) Delete(ctx context.Context) error {
	hs := make([]*hostConn, len(in.spec.Hosts))
	for i, h := range in.spec.Hosts {
		hs[i] = &hostConn{host: h, l: in.spec.layout(h)}
	}
	return forEach(hs, func(h *hostConn) error {
		s, err := in.remote.Dial(ctx, "delete", h.host)
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := s.Run(ctx, "delete", "stopping and removing the control plane", h.l.uninstallScript(in.spec.InstallDir, in.spec.StopGrace), nil); err != nil {
			return err
		}
		in.log.Info("control plane removed", "host", s.String(), "dir", h.l.root)
		return nil
	})
}
