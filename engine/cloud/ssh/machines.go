package ssh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Create implements cloud.Cloud: it turns req.Host into the machine, or
// returns the machine the host already is for req's idempotency key.
func (c *Cloud) Create(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("ssh: create %q: %w", req.Name, err)
	}
	if err := req.Validate(); err != nil {
		return cloud.Machine{}, err
	}
	if req.Host == "" {
		return cloud.Machine{}, fmt.Errorf("%w: host: required (one of %s)", cloud.ErrInvalid, strings.Join(c.opts.Hosts, ", "))
	}
	if !c.configured(req.Host) {
		return cloud.Machine{}, fmt.Errorf("%w: host %q: not one of the pool's hosts (%s)", cloud.ErrInvalid, req.Host, strings.Join(c.opts.Hosts, ", "))
	}
	mu := c.hostLock(req.Host)
	mu.Lock()
	defer mu.Unlock()
	cn, err := c.dial(ctx, "create", req.Host)
	if err != nil {
		return cloud.Machine{}, err
	}
	defer cn.Close()
	dir := newDir(req.Name)
	bin := c.layout.binary(c.binSum)
	out, err := cn.run(ctx, "create", "claiming the host", c.layout.claimScript(req.Host, dir, bin), nil)
	if err != nil {
		return cloud.Machine{}, err
	}
	claim, err := parseClaim(out)
	if err != nil {
		return cloud.Machine{}, fail(cloud.ErrTransient, "create", cn.t, err, "claiming the host")
	}
	if !claim.claimed {
		return c.existing(cn.t, req, claim)
	}
	m, err := c.install(ctx, cn, req, dir, bin, claim.binSum)
	if err != nil {
		c.discard(req.Host, dir)
		return cloud.Machine{}, err
	}
	return m, nil
}

// existing is the answer to a Create whose host is already a machine: that
// machine for the same key, else an error naming the host.
func (c *Cloud) existing(t target, req cloud.MachineRequest, claim claimResult) (cloud.Machine, error) {
	s := claim.status
	if s == nil {
		return cloud.Machine{}, fail(cloud.ErrTransient, "create", t, nil,
			fmt.Sprintf("another Create is making machine %s on this host", claim.owner))
	}
	m := s.machine(t)
	if s.KeyHash != keyHash(req.IdempotencyKey) {
		return cloud.Machine{}, fail(cloud.ErrCapacity, "create", t, nil,
			fmt.Sprintf("the host already is machine %s (%s/%s, %s): one machine per host", m.ID, m.Cluster, m.Pool, m.State))
	}
	if !req.SameRequest(m) {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"idempotencyKey: already used by machine %q (%s/%s/%s), not %s/%s/%s",
			m.ID, m.Cluster, m.Pool, m.Name, req.Cluster, req.Pool, req.Name)
	}
	return m, nil
}

// install uploads the binary when the host's differs, writes the machine's
// files and starts its agent.
func (c *Cloud) install(ctx context.Context, cn *conn, req cloud.MachineRequest, dir, bin, hostSum string) (cloud.Machine, error) {
	if hostSum != c.binSum {
		if err := c.upload(ctx, cn, bin); err != nil {
			return cloud.Machine{}, err
		}
	} else {
		c.log.Debug("binary already installed", "host", req.Host, "binary", bin)
	}
	r := record{
		ID: machineID(dir, req.Host), Name: req.Name, Cluster: req.Cluster, Pool: req.Pool, Zone: req.Zone,
		MachineType: req.MachineType, Labels: req.Labels, Host: req.Host,
		KeyHash: keyHash(req.IdempotencyKey), CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Binary: bin,
	}
	rec, err := json.Marshal(r)
	if err != nil {
		return cloud.Machine{}, err
	}
	md := c.layout.machineDir(dir)
	argv := cloud.AgentArgs(bin, cloud.Agent{
		Name: req.Name, Pool: req.Pool, Zone: req.Zone, MachineType: req.MachineType, Labels: req.Labels,
		ServerURL: req.Bootstrap.ServerURL, CAFile: path.Join(md, "ca.crt"),
		TokenFile: path.Join(md, "join-token"), DataDir: path.Join(md, "data"),
	}, c.opts.AgentArgs...)
	in := installInput{
		token: []byte(req.Bootstrap.JoinToken.Reveal()), ca: req.Bootstrap.CAPEM, record: rec,
		supervisor: []byte(supervisorScript(argv)),
		unit:       []byte(unitFile(r.ID, argv, path.Join(md, "agent.log"), c.opts.StopGrace)),
	}
	out, err := cn.run(ctx, "create", "installing the agent", c.layout.installScript(dir, req.Name, in), bytes.NewReader(in.stdin()))
	if err != nil {
		return cloud.Machine{}, err
	}
	how := strings.TrimSpace(string(out))
	c.log.Info("machine created", "machine", r.ID, "host", cn.t.String(), "cluster", r.Cluster, "pool", r.Pool, "as", how)
	return status{record: r, dir: dir, running: true, started: true}.machine(cn.t), nil
}

// upload copies Options.Binary to bin on the host; the host checks its
// checksum before moving it in place.
func (c *Cloud) upload(ctx context.Context, cn *conn, bin string) error {
	f, err := os.Open(c.opts.Binary)
	if err != nil {
		return fmt.Errorf("ssh: create: Options.Binary: %w", err)
	}
	defer f.Close()
	start := time.Now()
	if _, err := cn.run(ctx, "create", "uploading "+path.Base(bin), uploadScript(bin, c.binSum), f); err != nil {
		return err
	}
	c.log.Info("binary uploaded", "host", cn.t.String(), "binary", bin, "duration", time.Since(start))
	return nil
}

// discard removes what a failed Create left on the host, on a connection
// of its own (the Create's may be what failed, or its context cancelled):
// best effort, as a claim left behind without a record is released after
// pendingTimeout.
func (c *Cloud) discard(host, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout+c.opts.StopGrace+10*time.Second)
	defer cancel()
	cn, err := c.dial(ctx, "create", host)
	if err == nil {
		defer cn.Close()
		_, err = cn.run(ctx, "create", "cleaning up", c.layout.deleteScript(host, dir, machineID(dir, host), c.opts.StopGrace), nil)
	}
	if err != nil {
		c.log.Warn("cleaning up a failed create", "host", host, "machine", dir, "err", err)
	}
}

// lookup parses id and checks its host is configured; ok is false for an
// ID this cloud cannot have made.
func (c *Cloud) lookup(op, id string) (dir, host string, err error) {
	dir, host, ok := parseID(id)
	if !ok {
		return "", "", cloud.Errorf(cloud.ErrNotFound, provider, op, "machine %q", id)
	}
	if !c.configured(host) {
		return "", "", cloud.Errorf(cloud.ErrInvalid, provider, op,
			"machine %q is on host %q, which is not one of the pool's hosts (%s)", id, host, strings.Join(c.opts.Hosts, ", "))
	}
	return dir, host, nil
}

// Get implements cloud.Cloud. An unreachable host is ErrTransient naming it.
func (c *Cloud) Get(ctx context.Context, id string) (cloud.Machine, error) {
	dir, host, err := c.lookup("get", id)
	if err != nil {
		return cloud.Machine{}, err
	}
	cn, err := c.dial(ctx, "get", host)
	if err != nil {
		return cloud.Machine{}, err
	}
	defer cn.Close()
	sts, err := c.status(ctx, cn, "get", dir)
	if err != nil {
		return cloud.Machine{}, err
	}
	for _, s := range sts {
		if s.ID == id {
			return s.machine(cn.t), nil
		}
	}
	return cloud.Machine{}, cloud.Errorf(cloud.ErrNotFound, provider, "get", "machine %q", id)
}

// status reads the status of dirs (every machine when none) on cn's host,
// keeping only the machines of that host (hosts sharing a filesystem see
// each other's records).
func (c *Cloud) status(ctx context.Context, cn *conn, op string, dirs ...string) ([]status, error) {
	out, err := cn.run(ctx, op, "reading machines", c.layout.statusScript(dirs...), nil)
	if err != nil {
		return nil, err
	}
	sts, err := parseStatus(out)
	if err != nil {
		return nil, fail(cloud.ErrTransient, op, cn.t, err, "reading machines")
	}
	return slices.DeleteFunc(sts, func(s status) bool { return s.Host != cn.t.host }), nil
}

// List implements cloud.Cloud, asking every host at once. When some hosts
// cannot be asked, List returns the machines of the others together with
// an ErrTransient error naming each host that failed and why: a caller
// that must see every machine treats the error as failure; one that acts
// per machine can go on with the hosts it reached.
func (c *Cloud) List(ctx context.Context, f cloud.Filter) ([]cloud.Machine, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ssh: list: %w", err)
	}
	var (
		mu   sync.Mutex
		out  []cloud.Machine
		errs []error
		wg   sync.WaitGroup
	)
	for _, host := range c.opts.Hosts {
		wg.Go(func() {
			ms, err := c.listHost(ctx, host, f)
			mu.Lock()
			defer mu.Unlock()
			out = append(out, ms...)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b cloud.Machine) int { return strings.Compare(a.ID, b.ID) })
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return out, &cloud.Error{Kind: cloud.ErrTransient, Provider: provider, Op: "list",
			Message: fmt.Sprintf("%d of %d hosts not listed", len(errs), len(c.opts.Hosts)), Err: errors.Join(errs...)}
	}
	return out, nil
}

func (c *Cloud) listHost(ctx context.Context, host string, f cloud.Filter) ([]cloud.Machine, error) {
	cn, err := c.dial(ctx, "list", host)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	sts, err := c.status(ctx, cn, "list")
	if err != nil {
		return nil, err
	}
	var ms []cloud.Machine
	for _, s := range sts {
		if m := s.machine(cn.t); f.Matches(m) {
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// Delete implements cloud.Cloud: it stops the machine's agent (its unit,
// or its process group: SIGTERM, SIGKILL after Options.StopGrace) and
// removes its files and its claim on the host; the binary goes with the
// host's last machine. A machine already gone is no error; an unreachable
// host is ErrTransient naming it.
func (c *Cloud) Delete(ctx context.Context, id string) error {
	dir, host, err := c.lookup("delete", id)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	mu := c.hostLock(host)
	mu.Lock()
	defer mu.Unlock()
	cn, err := c.dial(ctx, "delete", host)
	if err != nil {
		return err
	}
	defer cn.Close()
	// Also without a record: a Create that died halfway may have left files.
	if _, err := cn.run(ctx, "delete", "stopping and removing machine "+id, c.layout.deleteScript(host, dir, id, c.opts.StopGrace), nil); err != nil {
		return err
	}
	c.log.Info("machine deleted", "machine", id, "host", cn.t.String())
	return nil
}

// Logs implements cloud.LogReader: the last lines of the agent's log on
// its host.
func (c *Cloud) Logs(ctx context.Context, id string, lines int) (string, error) {
	dir, host, err := c.lookup("logs", id)
	if err != nil {
		return "", err
	}
	if lines <= 0 {
		return "", nil
	}
	cn, err := c.dial(ctx, "logs", host)
	if err != nil {
		return "", err
	}
	defer cn.Close()
	out, err := cn.run(ctx, "logs", "reading the agent log of "+id, c.layout.logsScript(dir, lines), nil)
	var exit *ssh.ExitError
	if errors.As(err, &exit) && exit.ExitStatus() == 3 {
		return "", cloud.Errorf(cloud.ErrNotFound, provider, "logs", "machine %q", id)
	}
	if err != nil {
		return "", err
	}
	return string(out), nil
}
