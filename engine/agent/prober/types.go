package prober

import (
	"context"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Kind is what a probe decides: whether to restart a container (liveness),
// to send it traffic (readiness), or that it has finished starting (startup).
type Kind string

// Probe kinds. The values read well in events ("Liveness probe failed: ...").
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Result is a probe's current verdict after its thresholds.
type Result int

// Results. Unknown is also what Result returns for a probe with no worker.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	default:
		return "Unknown"
	}
}

// initialResult is a probe's result before its first verdict, as kubelet
// has it: not ready until proven ready, alive until proven dead, startup
// undecided.
func initialResult(k Kind) Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	default:
		return Unknown
	}
}

// Target is where a container's probes go.
type Target struct {
	// PodIP receives HTTP and TCP probes unless the probe sets a host.
	PodIP string
	// ContainerID runs exec probes; a new id (a restarted container)
	// restarts the container's workers from their initial results.
	ContainerID string
	// NamedPorts maps the container's port names to numbers, for probes
	// with port: "http".
	NamedPorts map[string]int32
}

// Execer runs a command in a container; runtime.Runtime satisfies it.
type Execer interface {
	Exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (runtime.ExecResult, error)
}

var _ Execer = runtime.Runtime(nil)

// Update reports a changed result.
type Update struct {
	PodUID, Container string
	Kind              Kind
	Result            Result
	// Message says why the last probe failed ("HTTP probe failed with
	// statuscode: 500", `Get "http://...": connection refused`); empty on
	// success.
	Message string
}

// key names one worker.
type key struct {
	podUID, container string
	kind              Kind
}
