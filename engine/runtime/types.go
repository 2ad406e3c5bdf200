// Package runtime is the node agent's view of what runs containers: pod
// sandboxes (the network namespace a pod's containers share) and
// containers, found again by their labels after an agent restart. It is a
// small, CRI-like interface with two implementations: runtime/docker (the
// Docker Engine API) and runtime/process (host processes, for machines
// without Docker).
//
// The agent owns all policy (restarts, backoff, probes, status); a runtime
// only does what it is told and reports what is.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Labels every sandbox and container carries, so the agent can find them
// again (adoption after a restart, orphan cleanup).
const (
	LabelManaged = "maestro.managed" // "true"
	// LabelCluster is the id of the cluster whose agent made the object
	// (api.ClusterInfo.ClusterID): agents of several clusters on one engine
	// each see only their own. Objects without it (made by a maestro from
	// before cluster ids, or by a test) belong to no cluster.
	LabelCluster      = "maestro.cluster"
	LabelNode         = "maestro.node"
	LabelPodUID       = "maestro.pod.uid"
	LabelPodName      = "maestro.pod.name"
	LabelPodNamespace = "maestro.pod.namespace"
	LabelRole         = "maestro.role" // RoleSandbox or RoleContainer
	// LabelHostNetwork is "true" on the sandbox of a pod on the host's
	// network (the pod network leaves it alone).
	LabelHostNetwork   = "maestro.pod.hostnetwork"
	LabelContainerName = "maestro.container.name"
	// LabelAttempt counts restarts of one container of one pod (0, 1, ...).
	LabelAttempt = "maestro.container.attempt"
	// LabelHash identifies the container spec it was made from; a changed
	// spec (a new image) means a new container.
	LabelHash = "maestro.container.hash"

	RoleSandbox   = "sandbox"
	RoleContainer = "container"
)

// PortMapping publishes a pod port on the node.
type PortMapping struct {
	HostIP        string
	HostPort      int32
	ContainerPort int32
	Protocol      api.Protocol
}

// DNSConfig is the resolver configuration of a pod's containers.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// SandboxConfig describes a pod's sandbox.
type SandboxConfig struct {
	// Cluster is the id of the agent's cluster (LabelCluster); its
	// containers inherit it.
	Cluster                       string
	PodUID, Namespace, Name, Node string
	Hostname                      string
	HostNetwork                   bool
	Ports                         []PortMapping
	DNS                           *DNSConfig
	// Labels are added to the sandbox's own (a cluster id, say).
	Labels map[string]string
}

// SandboxState says whether a sandbox can host containers.
type SandboxState string

// Sandbox states.
const (
	SandboxReady    SandboxState = "Ready"
	SandboxNotReady SandboxState = "NotReady"
)

// Sandbox is a running (or dead) pod sandbox.
type Sandbox struct {
	ID                            string
	PodUID, Namespace, Name, Node string
	// IP is the pod's address (the node's for host-network pods). A
	// runtime leaves it empty for a sandbox with a network namespace of
	// its own: the pod network (engine/network) gives the address.
	IP string
	// NetNS is the path of the sandbox's network namespace while it runs
	// ("/proc/<pid>/ns/net", or a bind mount), for the pod network to plug
	// into; empty when the sandbox shares the host's network. RunSandbox
	// sets it; ListSandboxes may leave it empty.
	NetNS     string
	State     SandboxState
	CreatedAt time.Time
	Labels    map[string]string
}

// Mount is one volume mount of a container.
type Mount struct {
	// HostPath is bind-mounted, or VolumeName (a runtime-managed named
	// volume that outlives containers, for persistent volumes).
	HostPath      string
	VolumeName    string
	ContainerPath string
	ReadOnly      bool
}

// Resources are what the runtime enforces.
type Resources struct {
	CPURequestMilli int64 // relative weight (cpu shares)
	CPULimitMilli   int64 // hard cap; 0 = none
	MemoryLimit     int64 // bytes; 0 = none
}

// Security is the identity and privileges of a container's processes
// (the pod's and container's securityContext, merged). The zero value is
// the runtime's defaults.
type Security struct {
	// RunAsUser and RunAsGroup replace the image's user and group.
	RunAsUser, RunAsGroup *int64
	// RunAsNonRoot refuses to create a container that would run as uid 0
	// (with an error wrapping ErrConfig).
	RunAsNonRoot           bool
	ReadOnlyRootFilesystem bool
	Privileged             bool
	// NoNewPrivileges sets no_new_privs (allowPrivilegeEscalation false).
	NoNewPrivileges bool
	// CapAdd and CapDrop change the default capabilities ("NET_ADMIN",
	// "ALL").
	CapAdd, CapDrop []string
}

// IsZero reports whether s asks for nothing beyond the defaults.
func (s Security) IsZero() bool {
	return s.RunAsUser == nil && s.RunAsGroup == nil && !s.RunAsNonRoot && !s.ReadOnlyRootFilesystem &&
		!s.Privileged && !s.NoNewPrivileges && len(s.CapAdd) == 0 && len(s.CapDrop) == 0
}

// ContainerConfig describes a container to create in a sandbox.
type ContainerConfig struct {
	Name       string
	Image      string // empty for the process runtime
	Command    []string
	Args       []string
	WorkingDir string
	Env        []string // "KEY=value"
	Mounts     []Mount
	Resources  Resources
	Security   Security
	Attempt    int
	Hash       string
	Labels     map[string]string
}

// RegistryAuth is a credential for one registry, from a pod's image pull
// secrets. Its String and LogValue never show the secret parts.
type RegistryAuth struct {
	// Server is the registry as the Docker config names it
	// ("registry.example.com:5000", "https://index.docker.io/v1/").
	Server                            string
	Username, Password, IdentityToken string
}

func (a RegistryAuth) String() string {
	return "registry credential for " + a.Server + " (user " + a.Username + ")"
}

// LogValue keeps the password and token out of structured logs.
func (a RegistryAuth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", a.Server), slog.String("username", a.Username))
}

// ContainerState is a container's lifecycle state.
type ContainerState string

// Container states.
const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// Container is what the runtime reports about one container.
type Container struct {
	ID, SandboxID string
	PodUID        string
	Name          string
	Attempt       int
	Hash          string
	Image         string
	ImageID       string
	State         ContainerState
	CreatedAt     time.Time
	StartedAt     time.Time
	FinishedAt    time.Time
	ExitCode      int
	// Reason is OOMKilled, Error or Completed for exited containers.
	Reason  string
	Message string
	Labels  map[string]string
}

// Filter selects sandboxes or containers; empty fields match all. Agents
// always set Cluster, so they never see another cluster's objects nor
// those without a cluster.
type Filter struct {
	Cluster string
	Node    string
	PodUID  string
	// Labels must all match.
	Labels map[string]string
}

// ExecResult is the outcome of a command run in a container.
type ExecResult struct {
	ExitCode int
	Output   []byte // stdout and stderr, truncated to a few KiB
}

// LogOptions select a container's log lines.
type LogOptions struct {
	Follow     bool
	TailLines  int64 // 0 = all
	Timestamps bool
	Since      time.Time
}

// Usage is a container's resource usage at one instant.
type Usage struct {
	// CPUUsageNanos is cumulative cpu time; two samples give a rate.
	CPUUsageNanos uint64
	MemoryBytes   uint64
	Timestamp     time.Time
}

// Runtime runs sandboxes and containers. Every method is safe for
// concurrent use and takes a context bounding its I/O.
type Runtime interface {
	// Name is "docker" or "process".
	Name() string
	// Version is the engine's version, for the node's info.
	Version(ctx context.Context) (string, error)

	// EnsureImage makes an image present according to the pull policy,
	// offering the registry the credentials in auths that are for it (none:
	// an anonymous pull); failures are *ImageError, carrying the engine's
	// own message and never a credential.
	EnsureImage(ctx context.Context, image string, policy api.PullPolicy, auths []RegistryAuth) error

	RunSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error)
	// StopSandbox stops the sandbox (its containers must be stopped first).
	StopSandbox(ctx context.Context, id string, timeout time.Duration) error
	RemoveSandbox(ctx context.Context, id string) error
	ListSandboxes(ctx context.Context, f Filter) ([]Sandbox, error)

	CreateContainer(ctx context.Context, sandbox Sandbox, cfg ContainerConfig) (id string, err error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, waits up to timeout, then SIGKILL.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers reports containers in every state, with exit details.
	ListContainers(ctx context.Context, f Filter) ([]Container, error)
	InspectContainer(ctx context.Context, id string) (Container, error)

	Exec(ctx context.Context, id string, cmd []string, timeout time.Duration) (ExecResult, error)
	Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error
	Stats(ctx context.Context, id string) (Usage, error)
}

// VolumeRemover is a runtime with named volumes (Docker's): RemoveVolume
// deletes one with its data, an error while a container uses it; a volume
// that does not exist is no error. The process runtime has no volumes.
type VolumeRemover interface {
	RemoveVolume(ctx context.Context, name string) error
}

// NetworkNamespacer is a runtime that says whether its sandboxes (those
// not on the host network) get network namespaces of their own, to be
// plugged into the pod network. A runtime that is not one always does.
type NetworkNamespacer interface {
	OwnNetworkNamespaces() bool
}

// ErrNotFound is returned for unknown sandbox or container ids.
var ErrNotFound = errors.New("runtime: not found")

// ErrConfig marks a container the runtime refuses for its configuration
// (runAsNonRoot with an image that runs as root, a setting the runtime
// does not support): retrying does not help until the spec changes.
var ErrConfig = errors.New("runtime: invalid container configuration")

// ImageError is a failure to make an image available. Reason is
// api.ReasonErrImagePull or "ErrImageNeverPull"; Message is the engine's.
type ImageError struct {
	Image   string
	Reason  string
	Message string
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("image %q: %s: %s", e.Image, e.Reason, e.Message)
}
