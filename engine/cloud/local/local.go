package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

const provider = "local"

// DefaultStopGrace is how long Delete waits after SIGTERM before SIGKILL.
const DefaultStopGrace = 10 * time.Second

// Options configure a local Cloud.
type Options struct {
	// Root holds every machine's directory (required; made if missing).
	Root string
	// Command returns the argv of a machine's process. Default:
	// AgentCommand(this executable).
	Command func(Spec) []string
	// Env is added to the process's environment (which also holds
	// MAESTRO_JOIN_TOKEN_FILE).
	Env []string
	// StopGrace is the SIGTERM -> SIGKILL delay (default DefaultStopGrace).
	StopGrace time.Duration
	// Uninstall, when set, removes what a deleted machine's process left on
	// this host (an agent's pods and pod network), after the process is
	// gone and before its record is; an error keeps the record, so the
	// next Delete tries again.
	Uninstall func(ctx context.Context, m cloud.Machine) error
	// Network, when set, makes every machine an emulated host with an
	// address of its own (see Network); nil runs machines in this host's
	// network.
	Network *Network
	Logger  *slog.Logger
}

// Cloud is the local cloud.Cloud.
type Cloud struct {
	opts Options
	log  *slog.Logger
	mu   sync.Mutex // serializes Create's key lookup and claim within this process
}

var _ cloud.Cloud = (*Cloud)(nil)

// New returns a Cloud keeping its machines under opts.Root.
func New(opts Options) (*Cloud, error) {
	if opts.Root == "" {
		return nil, errors.New("local: Options.Root: required")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("local: Options.Root %q: %w", opts.Root, err)
	}
	opts.Root = root
	for _, d := range []string{"machines", "keys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("local: Options.Root: %w", err)
		}
	}
	if opts.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("local: Options.Command: no default (%w)", err)
		}
		opts.Command = AgentCommand(exe)
	}
	if opts.Network != nil {
		if err := opts.Network.Validate(); err != nil {
			return nil, err
		}
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cloud{opts: opts, log: log.With("cloud", provider)}, nil
}

// Create implements cloud.Cloud.
func (c *Cloud) Create(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("local: create %q: %w", req.Name, err)
	}
	if err := req.Validate(); err != nil {
		return cloud.Machine{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hash := keyHash(req.IdempotencyKey)
	if m, ok, err := c.existing(hash, req); ok || err != nil {
		return m, err
	}
	r, err := c.prepare(req, hash)
	if err != nil {
		return cloud.Machine{}, err
	}
	owner, err := c.claimKey(hash, r.ID)
	if err != nil || owner != r.ID {
		_ = os.RemoveAll(c.machineDir(r.ID))
		if err != nil {
			return cloud.Machine{}, cloud.Wrap(cloud.ErrTransient, provider, "create", err, "machine "+req.Name)
		}
		return c.Get(ctx, owner) // another process won the key
	}
	if err := ctx.Err(); err != nil {
		c.discard(r)
		return cloud.Machine{}, fmt.Errorf("local: create %q: %w", req.Name, err)
	}
	if err := c.startMachine(ctx, &r, req); err != nil {
		c.discard(r)
		return cloud.Machine{}, err
	}
	c.log.Info("machine created", "machine", r.ID, "cluster", r.Cluster, "pool", r.Pool, "pid", r.PID)
	return r.machine(state(r)), nil
}

// existing returns the machine holding req's key, if any. A key whose
// machine is gone (a Create that crashed halfway) is released.
func (c *Cloud) existing(hash string, req cloud.MachineRequest) (cloud.Machine, bool, error) {
	id, err := os.ReadFile(c.keyPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return cloud.Machine{}, false, nil
	}
	if err != nil {
		return cloud.Machine{}, false, cloud.Wrap(cloud.ErrTransient, provider, "create", err, "reading idempotency key")
	}
	r, err := c.load("create", string(id))
	if errors.Is(err, cloud.ErrNotFound) {
		_ = os.Remove(c.keyPath(hash))
		return cloud.Machine{}, false, nil
	}
	if err != nil {
		return cloud.Machine{}, false, err
	}
	m := r.machine(state(r))
	if !req.SameRequest(m) {
		return cloud.Machine{}, false, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"idempotencyKey: already used by machine %q (%s/%s/%s), not %s/%s/%s",
			m.ID, m.Cluster, m.Pool, m.Name, req.Cluster, req.Pool, req.Name)
	}
	return m, true, nil
}

// prepare makes the machine's directory: record (pending), CA, token file.
func (c *Cloud) prepare(req cloud.MachineRequest, hash string) (record, error) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	r := record{
		ID: req.Name + "-" + hex.EncodeToString(suffix), Name: req.Name, Cluster: req.Cluster,
		Pool: req.Pool, Zone: req.Zone, MachineType: req.MachineType, Labels: req.Labels,
		KeyHash: hash, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	dir := c.machineDir(r.ID)
	err := os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "ca.crt"), req.Bootstrap.CAPEM, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "join-token"), []byte(req.Bootstrap.JoinToken.Reveal()), 0o600)
	}
	if err == nil {
		err = c.save(r)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return record{}, cloud.Wrap(cloud.ErrTransient, provider, "create", err, "preparing machine "+req.Name)
	}
	return r, nil
}

func (c *Cloud) startMachine(ctx context.Context, r *record, req cloud.MachineRequest) error {
	dir := c.machineDir(r.ID)
	spec := Spec{
		ID: r.ID, Name: r.Name, Cluster: r.Cluster, Pool: r.Pool, Zone: r.Zone,
		MachineType: r.MachineType, Labels: r.Labels, ServerURL: req.Bootstrap.ServerURL,
		CAFile: filepath.Join(dir, "ca.crt"), TokenFile: filepath.Join(dir, "join-token"),
		DataDir: filepath.Join(dir, "data"),
	}
	if c.opts.Network != nil {
		if err := c.makeNetworkHost(ctx, r); err != nil {
			return err
		}
		spec.Address = r.Address
	}
	env := append(os.Environ(), "MAESTRO_JOIN_TOKEN_FILE="+spec.TokenFile)
	env = append(env, c.opts.Env...)
	argv := c.opts.Command(spec)
	if c.opts.Network != nil {
		argv = append([]string{"ip", "netns", "exec", netnsName(r.ID)}, argv...)
	}
	pid, st, err := start(argv, env, dir, filepath.Join(dir, "machine.log"))
	if err != nil {
		return fmt.Errorf("local: create %q: starting %q: %w", r.Name, firstArg(argv), err)
	}
	r.PID, r.ProcessStart = pid, st
	if err := c.save(*r); err != nil {
		_ = stop(context.Background(), pid, st, 0)
		return cloud.Wrap(cloud.ErrTransient, provider, "create", err, "recording machine "+r.Name)
	}
	return nil
}

func firstArg(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return argv[0]
}

// makeNetworkHost gives r an address and makes its network namespace,
// recording the address first so that Delete finds it after a crash.
func (c *Cloud) makeNetworkHost(ctx context.Context, r *record) error {
	addr, err := c.claimAddress(r.ID)
	if err != nil {
		return cloud.Wrap(cloud.ErrCapacity, provider, "create", err, "machine "+r.Name+": address")
	}
	r.Address = addr.String()
	if err := c.save(*r); err != nil {
		c.releaseAddress(r.Address, r.ID)
		return cloud.Wrap(cloud.ErrTransient, provider, "create", err, "recording machine "+r.Name)
	}
	if err := c.makeHost(ctx, r.ID, addr); err != nil {
		c.releaseAddress(r.Address, r.ID)
		return cloud.Wrap(cloud.ErrTransient, provider, "create", err, "machine "+r.Name)
	}
	return nil
}

// discard removes a machine Create gave up on, and its key.
func (c *Cloud) discard(r record) {
	c.releaseHost(context.Background(), r)
	_ = os.Remove(c.keyPath(r.KeyHash))
	_ = os.RemoveAll(c.machineDir(r.ID))
}

// releaseHost removes the machine's network namespace and address, if it
// has them.
func (c *Cloud) releaseHost(ctx context.Context, r record) {
	if c.opts.Network == nil || r.Address == "" {
		return
	}
	c.removeHost(ctx, r.ID)
	c.releaseAddress(r.Address, r.ID)
	c.removeBridgeIfUnused(ctx)
}

// pendingTimeout is how long a machine may stay without a process before it
// counts as terminated: its Create crashed between recording it and
// starting its process (which takes milliseconds).
const pendingTimeout = time.Minute

func state(r record) cloud.State {
	switch {
	case r.Deleting:
		return cloud.StateStopping
	case r.PID == 0 && time.Since(r.CreatedAt) < pendingTimeout:
		return cloud.StatePending
	case r.PID == 0:
		return cloud.StateTerminated
	case alive(r.PID, r.ProcessStart):
		return cloud.StateRunning
	}
	return cloud.StateTerminated
}

// Get implements cloud.Cloud.
func (c *Cloud) Get(ctx context.Context, id string) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("local: get %q: %w", id, err)
	}
	r, err := c.load("get", id)
	if err != nil {
		return cloud.Machine{}, err
	}
	return r.machine(state(r)), nil
}

// List implements cloud.Cloud.
func (c *Cloud) List(ctx context.Context, f cloud.Filter) ([]cloud.Machine, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: list: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(c.opts.Root, "machines"))
	if err != nil {
		return nil, cloud.Wrap(cloud.ErrTransient, provider, "list", err, "reading machines")
	}
	var out []cloud.Machine // ReadDir sorts by name, that is by ID
	for _, e := range entries {
		r, err := c.load("list", e.Name())
		if errors.Is(err, cloud.ErrNotFound) {
			continue // deleted meanwhile, or a Create not yet recorded
		}
		if err != nil {
			return nil, err
		}
		if m := r.machine(state(r)); f.Matches(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Delete implements cloud.Cloud.
func (c *Cloud) Delete(ctx context.Context, id string) error {
	r, err := c.load("delete", id)
	if errors.Is(err, cloud.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Deleting {
		r.Deleting = true
		if err := c.save(r); err != nil {
			return cloud.Wrap(cloud.ErrTransient, provider, "delete", err, "marking machine "+id)
		}
	}
	if err := stop(ctx, r.PID, r.ProcessStart, c.opts.StopGrace); err != nil {
		return cloud.Wrap(cloud.ErrTransient, provider, "delete", err, "stopping machine "+id)
	}
	if c.opts.Uninstall != nil {
		if err := c.opts.Uninstall(ctx, r.machine(cloud.StateStopping)); err != nil {
			return cloud.Wrap(cloud.ErrTransient, provider, "delete", err, "removing what machine "+id+" left")
		}
	}
	c.releaseHost(ctx, r)
	if owner, err := os.ReadFile(c.keyPath(r.KeyHash)); err == nil && string(owner) == id {
		_ = os.Remove(c.keyPath(r.KeyHash))
	}
	if err := os.RemoveAll(c.machineDir(id)); err != nil {
		return cloud.Wrap(cloud.ErrTransient, provider, "delete", err, "removing machine "+id)
	}
	c.log.Info("machine deleted", "machine", id, "cluster", r.Cluster, "pool", r.Pool)
	return nil
}
