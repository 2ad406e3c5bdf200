//go:build linux

package process

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// DefaultCgroupParent is the cgroup every container's cgroup is made in.
const DefaultCgroupParent = "maestro"

// Runtime runs containers as host processes.
type Runtime struct {
	opts Options
	log  *slog.Logger
	cg   *cgroups // nil: no resource limits
	// netns: pods get network namespaces of their own (root only).
	netns bool

	// mu serialises changes to records, so concurrent calls on one
	// container do not interleave (a stop racing a remove).
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

var _ runtime.Runtime = (*Runtime)(nil)

// New opens (or creates) the state directory. Processes left running by an
// earlier Runtime on the same root are adopted: records are the state.
func New(opts Options) (*Runtime, error) {
	if opts.Root == "" {
		return nil, errors.New("process runtime: Options.Root is required")
	}
	if opts.CgroupParent == "" {
		opts.CgroupParent = DefaultCgroupParent
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	for _, d := range []string{"sandboxes", "containers", "netns"} {
		if err := os.MkdirAll(filepath.Join(opts.Root, d), 0o700); err != nil {
			return nil, fmt.Errorf("process runtime: %w", err)
		}
	}
	r := &Runtime{opts: opts, log: opts.Log.With("runtime", "process"), locks: map[string]*sync.Mutex{}}
	r.cg = detectCgroups(opts.CgroupParent, r.log)
	r.netns = os.Geteuid() == 0 && !opts.HostNetworkOnly
	if !r.netns {
		r.log.Info("pods share the host's network: a network namespace per pod needs root",
			"root", os.Geteuid() == 0, "host_network_only", opts.HostNetworkOnly)
	}
	return r, nil
}

// Name is "process".
func (r *Runtime) Name() string { return "process" }

// Version is the kernel's release: the only engine there is.
func (r *Runtime) Version(context.Context) (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "", fmt.Errorf("process runtime: version: %w", err)
	}
	return "linux " + strings.TrimSpace(string(b)), nil
}

// OwnNetworkNamespaces reports whether pods get network namespaces (root,
// without HostNetworkOnly) or share the host's.
func (r *Runtime) OwnNetworkNamespaces() bool { return r.netns }

// CgroupsEnabled reports whether containers get cgroups with limits.
func (r *Runtime) CgroupsEnabled() bool { return r.cg != nil }

// EnsureImage accepts only the empty image: host processes have none.
func (r *Runtime) EnsureImage(_ context.Context, image string, _ api.PullPolicy, _ []runtime.RegistryAuth) error {
	if image == "" {
		return nil
	}
	return &runtime.ImageError{Image: image, Reason: api.ReasonErrImagePull,
		Message: "the process runtime runs host commands and cannot use images; leave the image empty"}
}

// lock serialises operations on one object id.
func (r *Runtime) lock(id string) func() {
	r.mu.Lock()
	l, ok := r.locks[id]
	if !ok {
		l = &sync.Mutex{}
		r.locks[id] = l
	}
	r.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// forgetLock drops the lock of a removed object (called holding it).
func (r *Runtime) forgetLock(id string) {
	r.mu.Lock()
	delete(r.locks, id)
	r.mu.Unlock()
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// validID rejects ids that are not ours before they reach a path.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
