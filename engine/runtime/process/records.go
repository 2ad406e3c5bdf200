//go:build linux

package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// sandboxRecord is sandboxes/<id>.json.
type sandboxRecord struct {
	ID        string                `json:"id"`
	Config    runtime.SandboxConfig `json:"config"`
	Labels    map[string]string     `json:"labels"`
	State     runtime.SandboxState  `json:"state"`
	CreatedAt time.Time             `json:"createdAt"`
	// NetNS is the pod's network namespace (a bind mount); empty when the
	// pod shares the host's network.
	NetNS string `json:"netns,omitempty"`
}

// containerRecord is containers/<id>/config.json, written once at create.
type containerRecord struct {
	ID        string                  `json:"id"`
	SandboxID string                  `json:"sandboxId"`
	PodUID    string                  `json:"podUid"`
	Config    runtime.ContainerConfig `json:"config"`
	Labels    map[string]string       `json:"labels"`
	CreatedAt time.Time               `json:"createdAt"`
}

// stateRecord is containers/<id>/state.json, written at start before the
// shim is let go.
type stateRecord struct {
	// Pid is the shim's: the leader of the container's process group.
	Pid int `json:"pid"`
	// StartTicks is the shim's start time (/proc/<pid>/stat field 22): a
	// live pid with another start time is a reused pid.
	StartTicks uint64    `json:"startTicks"`
	StartedAt  time.Time `json:"startedAt"`
	// Cgroups are the container's cgroup directories, if any.
	Cgroups []string `json:"cgroups,omitempty"`
	// ShimCgroups are where the shim goes once the process has started.
	ShimCgroups []string `json:"shimCgroups,omitempty"`
}

// exitRecord is containers/<id>/exit.json, written by the shim (or by the
// agent when it had to SIGKILL the shim too).
type exitRecord struct {
	ExitCode   int       `json:"exitCode"`
	Signal     string    `json:"signal,omitempty"`
	OOMKilled  bool      `json:"oomKilled,omitempty"`
	Message    string    `json:"message,omitempty"`
	FinishedAt time.Time `json:"finishedAt"`
}

func (r *Runtime) sandboxPath(id string) string {
	return filepath.Join(r.opts.Root, "sandboxes", id+".json")
}

func (r *Runtime) containerDir(id string) string {
	return filepath.Join(r.opts.Root, "containers", id)
}

const (
	configFile = "config.json"
	stateFile  = "state.json"
	exitFile   = "exit.json"
	logFile    = "log"
)

// writeJSON replaces path atomically, so a reader (another Runtime, the
// shim) never sees half a record.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readJSON reads a record; a missing file is fs.ErrNotExist.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (r *Runtime) loadSandbox(id string) (sandboxRecord, error) {
	var rec sandboxRecord
	if !validID(id) {
		return rec, fmt.Errorf("process runtime: sandbox %q: %w", id, runtime.ErrNotFound)
	}
	err := readJSON(r.sandboxPath(id), &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, fmt.Errorf("process runtime: sandbox %q: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("process runtime: sandbox %q: %w", id, err)
	}
	return rec, nil
}

// ctr is everything on disk about one container.
type ctr struct {
	rec   containerRecord
	state *stateRecord // nil: never started
	exit  *exitRecord  // nil: not exited (or the shim died unrecorded)
}

func (r *Runtime) loadContainer(id string) (ctr, error) {
	var c ctr
	if !validID(id) {
		return c, fmt.Errorf("process runtime: container %q: %w", id, runtime.ErrNotFound)
	}
	dir := r.containerDir(id)
	err := readJSON(filepath.Join(dir, configFile), &c.rec)
	if errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("process runtime: container %q: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("process runtime: container %q: %w", id, err)
	}
	var st stateRecord
	switch err := readJSON(filepath.Join(dir, stateFile), &st); {
	case err == nil:
		c.state = &st
	case !errors.Is(err, fs.ErrNotExist):
		return c, fmt.Errorf("process runtime: container %q: %w", id, err)
	}
	var ex exitRecord
	switch err := readJSON(filepath.Join(dir, exitFile), &ex); {
	case err == nil:
		c.exit = &ex
	case !errors.Is(err, fs.ErrNotExist):
		return c, fmt.Errorf("process runtime: container %q: %w", id, err)
	}
	return c, nil
}

// running reports whether the container's shim is alive and has not
// recorded an exit yet.
func (c ctr) running() bool {
	return c.state != nil && c.exit == nil && alive(c.state.Pid, c.state.StartTicks)
}

// status is what the runtime reports about the container.
func (c ctr) status() runtime.Container {
	out := runtime.Container{
		ID:        c.rec.ID,
		SandboxID: c.rec.SandboxID,
		PodUID:    c.rec.PodUID,
		Name:      c.rec.Config.Name,
		Attempt:   c.rec.Config.Attempt,
		Hash:      c.rec.Config.Hash,
		State:     runtime.ContainerCreated,
		CreatedAt: c.rec.CreatedAt,
		Labels:    c.rec.Labels,
	}
	if c.state == nil {
		return out
	}
	out.StartedAt = c.state.StartedAt
	switch {
	case c.exit != nil:
		out.State = runtime.ContainerExited
		out.ExitCode = c.exit.ExitCode
		out.FinishedAt = c.exit.FinishedAt
		out.Reason = runtime.ExitReason(c.exit.ExitCode, c.exit.OOMKilled)
		out.Message = c.exit.Message
	case alive(c.state.Pid, c.state.StartTicks):
		out.State = runtime.ContainerRunning
	default:
		// The shim died without a record: killed with its process group,
		// or the machine restarted.
		out.State = runtime.ContainerExited
		out.ExitCode = 137
		out.Reason = "Error"
		out.Message = "the process exited without recording its exit code (killed, or the machine restarted)"
	}
	return out
}
