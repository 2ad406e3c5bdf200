package prober

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Manager owns the probe workers of a node's containers. All methods are
// safe for concurrent use.
type Manager struct {
	exec     Execer
	onChange func(Update)
	log      *slog.Logger
	http     *http.Client
	clock    clock
	// testHookTicked, when set, runs after each timer tick of a worker
	// (its next timer armed, or it about to return).
	testHookTicked func(key)

	mu      sync.Mutex
	workers map[key]*worker
	stopped bool
	wg      sync.WaitGroup // running worker goroutines
}

// NewManager returns a manager that runs exec probes through exec and calls
// onChange, from worker goroutines and never holding a lock, whenever a
// result changes. onChange must be safe for concurrent use and should be
// quick (enqueue the pod for a sync); it may call back into the Manager.
func NewManager(exec Execer, onChange func(Update), log *slog.Logger) *Manager {
	if onChange == nil {
		onChange = func(Update) {}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Manager{
		exec:     exec,
		onChange: onChange,
		log:      log,
		http:     newHTTPClient(),
		clock:    realClock{},
		workers:  map[key]*worker{},
	}
}

// Ensure makes one worker run probe for a container: it starts one if there
// is none, restarts it (from the kind's initial result) if the probe spec,
// the target or the container id changed, and does nothing otherwise; a nil
// probe stops the worker. startedAt is when the container started; the
// first probe runs initialDelaySeconds after it, at once if that has passed.
// Ensure sets the initial result without calling onChange: the caller reads
// Result after it.
func (m *Manager) Ensure(podUID, container string, kind Kind, probe *api.Probe, target Target, startedAt time.Time) {
	switch kind {
	case Liveness, Readiness, Startup:
	default:
		m.log.Error("prober: unknown probe kind", "kind", kind, "podUID", podUID, "container", container)
		return
	}
	k := key{podUID: podUID, container: container, kind: kind}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	old := m.workers[k]
	if probe == nil {
		if old != nil {
			m.removeLocked(old)
		}
		return
	}
	if old != nil {
		if old.matches(probe, target) {
			return
		}
		m.removeLocked(old)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{
		m:         m,
		key:       k,
		probe:     withDefaults(cloneProbe(probe)),
		target:    cloneTarget(target),
		startedAt: startedAt,
		cancel:    cancel,
		result:    initialResult(kind),
	}
	m.workers[k] = w
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		w.run(ctx)
	}()
}

// Remove stops the probe workers of one container. It does not wait for
// them: a probe in flight is cancelled and its outcome dropped.
func (m *Manager) Remove(podUID, container string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, kind := range []Kind{Liveness, Readiness, Startup} {
		if w := m.workers[key{podUID: podUID, container: container, kind: kind}]; w != nil {
			m.removeLocked(w)
		}
	}
}

// RemovePod stops the probe workers of every container of a pod.
func (m *Manager) RemovePod(podUID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, w := range m.workers {
		if k.podUID == podUID {
			m.removeLocked(w)
		}
	}
}

// Result is a probe's current result; Unknown when no worker runs it.
func (m *Manager) Result(podUID, container string, kind Kind) Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[key{podUID: podUID, container: container, kind: kind}]; w != nil {
		return w.result
	}
	return Unknown
}

// Stop stops every worker and waits for them to return. Later calls to
// Ensure do nothing. Stop must not be called from onChange.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	for _, w := range m.workers {
		m.removeLocked(w)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

func (m *Manager) removeLocked(w *worker) {
	w.cancel()
	delete(m.workers, w.key)
}

// started reports whether a container's liveness and readiness probes may
// run: it has no startup probe, or that probe has succeeded.
func (m *Manager) started(podUID, container string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.workers[key{podUID: podUID, container: container, kind: Startup}]
	return s == nil || s.result == Success
}

// set records a worker's new result and reports it if it changed. A worker
// that was replaced or removed meanwhile reports nothing.
func (m *Manager) set(w *worker, r Result, msg string) {
	m.mu.Lock()
	if m.workers[w.key] != w || w.result == r {
		m.mu.Unlock()
		return
	}
	w.result = r
	m.mu.Unlock()
	m.log.Info("probe result changed", "podUID", w.key.podUID, "container", w.key.container,
		"probe", string(w.key.kind), "result", r.String(), "message", msg)
	m.onChange(Update{PodUID: w.key.podUID, Container: w.key.container, Kind: w.key.kind, Result: r, Message: msg})
}

// cloneProbe copies a probe deeply, so a caller mutating its pod spec
// cannot change a running worker's view (or hide a change from matches).
func cloneProbe(p *api.Probe) api.Probe {
	c := *p
	if p.Exec != nil {
		c.Exec = &api.ExecAction{Command: slices.Clone(p.Exec.Command)}
	}
	if p.HTTPGet != nil {
		h := *p.HTTPGet
		h.HTTPHeaders = slices.Clone(h.HTTPHeaders)
		c.HTTPGet = &h
	}
	if p.TCPSocket != nil {
		t := *p.TCPSocket
		c.TCPSocket = &t
	}
	return c
}

func cloneTarget(t Target) Target {
	t.NamedPorts = maps.Clone(t.NamedPorts)
	return t
}

// withDefaults fills what API defaulting fills, for pods that skipped it.
func withDefaults(p api.Probe) api.Probe {
	if p.TimeoutSeconds <= 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds <= 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold <= 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = 3
	}
	return p
}

// matches reports whether the worker runs exactly this probe on this target.
func (w *worker) matches(p *api.Probe, t Target) bool {
	return reflect.DeepEqual(w.probe, withDefaults(cloneProbe(p))) &&
		w.target.PodIP == t.PodIP && w.target.ContainerID == t.ContainerID &&
		maps.Equal(w.target.NamedPorts, t.NamedPorts)
}
