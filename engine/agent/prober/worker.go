package prober

import (
	"context"
	"errors"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// worker probes one container for one kind until its context is cancelled.
type worker struct {
	m         *Manager
	key       key
	probe     api.Probe // defaulted private copy
	target    Target
	startedAt time.Time
	cancel    context.CancelFunc

	result Result // guarded by m.mu

	// The rest belongs to the worker's goroutine.
	last   Result // outcome of the latest attempt
	streak int    // consecutive attempts with that outcome
	onHold bool   // a liveness or startup failure: wait for a new container
}

func (w *worker) run(ctx context.Context) {
	clk := w.m.clock
	t := clk.NewTimer(w.startedAt.Add(seconds(w.probe.InitialDelaySeconds)))
	defer t.Stop()
	period := seconds(w.probe.PeriodSeconds)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		start := clk.Now()
		more := w.tick(ctx)
		if more {
			t.Reset(start.Add(period))
		}
		if w.m.testHookTicked != nil {
			w.m.testHookTicked(w.key)
		}
		if !more {
			return
		}
	}
}

// tick runs one attempt if this worker should, and applies the thresholds.
// It returns false when the worker has nothing more to do.
func (w *worker) tick(ctx context.Context) bool {
	if w.onHold {
		return true
	}
	if w.key.kind != Startup && !w.m.started(w.key.podUID, w.key.container) {
		return true
	}
	r, msg, err := w.attempt(ctx)
	if ctx.Err() != nil {
		return false // removed mid-probe: the outcome is nobody's
	}
	if err != nil {
		w.m.log.Debug("probe could not run", "podUID", w.key.podUID, "container", w.key.container,
			"probe", string(w.key.kind), "err", err)
		return true
	}
	if r == w.last {
		w.streak++
	} else {
		w.last, w.streak = r, 1
	}
	if r == Failure && w.streak < int(w.probe.FailureThreshold) || r == Success && w.streak < int(w.probe.SuccessThreshold) {
		return true
	}
	w.m.set(w, r, msg)
	if r == Success && w.key.kind == Startup {
		return false // started for good; a new container gets a new worker
	}
	if r == Failure && w.key.kind != Readiness {
		// The agent will kill this container; probing it while it dies
		// only races with the runtime.
		w.onHold, w.streak = true, 0
	}
	return true
}

// attempt runs the probe once, bounded by timeoutSeconds. An error means
// the probe could not run at all (its outcome is neither success nor
// failure).
func (w *worker) attempt(ctx context.Context) (Result, string, error) {
	timeout := seconds(w.probe.TimeoutSeconds)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := &w.probe
	switch {
	case p.Exec != nil:
		return probeExec(ctx, w.m.exec, w.target.ContainerID, p.Exec.Command, timeout)
	case p.HTTPGet != nil:
		return probeHTTP(ctx, w.m.http, p.HTTPGet, w.target)
	case p.TCPSocket != nil:
		return probeTCP(ctx, p.TCPSocket, w.target)
	default:
		return Unknown, "", errors.New("probe has no handler")
	}
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }
