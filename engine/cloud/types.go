package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Cloud creates, finds and deletes machines. Implementations are safe for
// concurrent use.
type Cloud interface {
	// Create makes a machine for req, or returns the machine an earlier
	// Create with the same IdempotencyKey made (its current state). The
	// same key with a different Name, Cluster or Pool is ErrInvalid.
	// An invalid request is ErrInvalid naming the field, and creates nothing.
	Create(ctx context.Context, req MachineRequest) (Machine, error)
	// Get returns one machine by ID, or ErrNotFound.
	Get(ctx context.Context, id string) (Machine, error)
	// List returns the machines of f.Cluster (required), of f.Pool when it is
	// set, sorted by ID. Other clusters' machines are never returned.
	List(ctx context.Context, f Filter) ([]Machine, error)
	// Delete stops the machine and releases everything it holds. It returns
	// once the machine is terminated or gone. Deleting a machine that is
	// already gone, or never existed, returns nil: a controller that crashed
	// between Delete and recording it simply deletes again.
	Delete(ctx context.Context, id string) error
}

// LogReader is implemented by clouds that can show a machine's agent log,
// so a machine whose node never joined can say why.
type LogReader interface {
	// Logs returns the last lines (at most lines) of the agent's output on
	// machine id; ErrNotFound when the machine is gone.
	Logs(ctx context.Context, id string, lines int) (string, error)
}

// MachineRequest is what Create makes a machine from.
type MachineRequest struct {
	// Name is the machine's name, and its node's name when it joins: a DNS-1123
	// subdomain.
	Name string
	// Cluster and Pool scope the machine: List filters by them.
	Cluster string
	Pool    string
	// Zone and MachineType are provider-specific placement and size; empty
	// means the provider's default.
	Zone        string
	MachineType string
	// Host is the existing host to turn into the machine (ssh: one of its
	// configured hosts; other providers: empty).
	Host string
	// Spot asks for interruptible capacity where the provider has it.
	Spot bool
	// Labels are node labels the agent registers with.
	Labels map[string]string
	// Bootstrap is what the machine's agent joins the cluster with.
	Bootstrap Bootstrap
	// IdempotencyKey makes Create safe to repeat (the Machine object's uid).
	IdempotencyKey string
}

// Bootstrap is the data a machine's agent needs for its first start.
type Bootstrap struct {
	// ServerURL is the API server, https://host:port.
	ServerURL string
	// CAPEM is the cluster CA certificate the agent verifies the server with.
	CAPEM []byte
	// JoinToken is single-use and secret.
	JoinToken Secret
}

// Filter selects machines for List.
type Filter struct {
	Cluster string // required
	Pool    string // empty: every pool of the cluster
}

// Machine is a machine as its provider reports it. It holds no secret.
type Machine struct {
	ID          string // provider-assigned, stable, unique within the provider
	Name        string
	Cluster     string
	Pool        string
	Zone        string
	MachineType string
	State       State
	Addresses   []string
	CreatedAt   time.Time
	// Spot: the machine runs on interruptible capacity.
	Spot bool
	// Interrupted: the provider has announced it will reclaim this spot
	// machine soon (EC2's marked-for-termination, a GCE preemption): the
	// machine controller drains its node and replaces it before it goes.
	Interrupted bool
}

// State is a machine's lifecycle state.
type State string

const (
	StatePending    State = "pending"    // accepted, not yet running
	StateRunning    State = "running"    // its process or host is up (not: its node is Ready)
	StateStopping   State = "stopping"   // being deleted
	StateTerminated State = "terminated" // stopped or died; will not come back
)

// Sentinel errors. Implementations wrap them (see Error) with the provider's
// message; callers check them with errors.Is.
var (
	ErrNotFound  = errors.New("cloud: machine not found")
	ErrCapacity  = errors.New("cloud: insufficient capacity")
	ErrQuota     = errors.New("cloud: quota exceeded")
	ErrTransient = errors.New("cloud: transient error")
	ErrInvalid   = errors.New("cloud: invalid request")
	// ErrPermission: the provider refused the caller (missing or invalid
	// credentials, or no permission for the call): a person must act.
	ErrPermission = errors.New("cloud: permission denied")
)

// Error is a provider's failure classified by one of the sentinel errors:
// errors.Is(err, Kind) holds, and errors.Unwrap returns the provider's own
// error, if any.
type Error struct {
	Kind     error  // one of the sentinel errors
	Provider string // "local", "ssh", ...
	Op       string // "create", "get", "list", "delete"
	Message  string // the provider's words: what failed and on what
	Err      error  // the underlying error, if any
}

// Errorf returns an *Error of kind for provider's operation op.
func Errorf(kind error, provider, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Provider: provider, Op: op, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies err as kind for provider's operation op; message says what
// was being done.
func Wrap(kind error, provider, op string, err error, message string) *Error {
	return &Error{Kind: kind, Provider: provider, Op: op, Message: message, Err: err}
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%v (%s %s)", e.Kind, e.Provider, e.Op)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is this error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether the same call may succeed later without anyone
// changing anything: transient failures, a lack of capacity (which comes
// back, or is found in another zone) and deadlines. Not found, quota,
// permission, invalid requests, cancellation and unclassified errors are not: they need a
// different request or a person. Providers classify what they know.
func IsRetryable(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrTransient), errors.Is(err, ErrCapacity),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// Secret is a string that never prints: every fmt verb, slog and
// encoding/json show "[redacted]". Reveal returns the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String, GoString and Format keep the value out of every fmt verb.
func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, %x and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue keeps the value out of slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps the value out of encoded JSON (it is never stored).
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText keeps the value out of text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
