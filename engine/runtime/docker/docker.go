package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Defaults of Options.
const (
	DefaultInfraImage = "maestro-pause:latest"
)

// labelSandboxID is on app containers: the infra container they joined.
const labelSandboxID = "maestro.sandbox.id"

// Options configure a Runtime.
type Options struct {
	// Host is the engine's address ("unix:///var/run/docker.sock",
	// "tcp://..."); empty means DOCKER_HOST or the default socket.
	Host string
	// InfraImage runs in every sandbox. Default "maestro-pause:latest".
	InfraImage string
	// InfraBinary is the static pause program the infra image is built
	// from (ImportBinary) when the image is missing.
	InfraBinary string
	// NodeIP is reported as the IP of host-network sandboxes; the engine
	// cannot know which host address the node advertises.
	NodeIP string
	Log    *slog.Logger
}

// Runtime runs pods as Docker containers.
type Runtime struct {
	c    *client.Client
	opts Options
	log  *slog.Logger

	// infraMu serialises building the infra image; infraReady marks it
	// present.
	infraMu    sync.Mutex
	infraReady atomic.Bool

	// details caches what only an inspect tells about a container (start
	// and finish times, exit code), per state: it cannot change until the
	// state does, so listing does not inspect every container every time.
	detailsMu sync.Mutex
	details   map[string]details
}

var (
	_ runtime.Runtime       = (*Runtime)(nil)
	_ runtime.VolumeRemover = (*Runtime)(nil)
)

// New connects to the engine and checks that it answers.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.InfraImage == "" {
		opts.InfraImage = DefaultInfraImage
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	copts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if opts.Host != "" {
		copts = append(copts, client.WithHost(opts.Host))
	}
	c, err := client.NewClientWithOpts(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ping, err := c.Ping(pingCtx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("docker runtime: cannot reach the Docker engine at %s: %w (is dockerd running?)", c.DaemonHost(), err)
	}
	// Settle the API version now: left to the first requests, concurrent
	// ones race on it (ContainerList reads it before negotiating).
	c.NegotiateAPIVersionPing(ping)
	return &Runtime{
		c:       c,
		opts:    opts,
		log:     opts.Log.With("runtime", "docker"),
		details: map[string]details{},
	}, nil
}

// Close releases the client's connections.
func (r *Runtime) Close() error { return r.c.Close() }

// Client is the engine client, for what the runtime does not cover.
func (r *Runtime) Client() *client.Client { return r.c }

// Name is "docker".
func (r *Runtime) Name() string { return "docker" }

// Version is the engine's version.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.c.ServerVersion(ctx)
	if err != nil {
		return "", fmt.Errorf("docker runtime: version: %w", err)
	}
	return v.Version, nil
}

// wrap adds context to an engine error and marks "no such object" errors
// as runtime.ErrNotFound.
func wrap(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%s: %w: %w", msg, runtime.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// notFound is the error for an object that exists in the engine but is not
// what the caller asked for (a sandbox given as a container).
func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, runtime.ErrNotFound)
}

// isNotFound reports whether err means the object does not exist.
func isNotFound(err error) bool {
	return errors.Is(err, runtime.ErrNotFound) || cerrdefs.IsNotFound(err)
}
