package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Binder writes a scheduling decision. It is the scheduler's only side
// effect on the cluster besides status conditions, injected so the
// pipeline runs against memory in benchmarks and previews.
type Binder interface {
	Bind(ctx context.Context, pod *api.Pod, node string) error
}

// Binding outcomes that are not failures to retry.
var (
	// ErrAlreadyBound: someone bound the pod first; the watch will bring
	// its real placement.
	ErrAlreadyBound = errors.New("scheduler: pod is already bound")
	// ErrPodGone: the pod was deleted while being scheduled.
	ErrPodGone = errors.New("scheduler: pod no longer exists")
)

// Compile-time checks.
var (
	_ Binder = (*APIBinder)(nil)
	_ Binder = (*MemoryBinder)(nil)
)

// APIBinder binds through the API's binding subresource: a compare-and-swap
// on the pod as the informer last saw it, so no GET is needed on the
// common path, and only the node name crosses the wire. The API server refuses it (409) if the pod
// changed since; the binder then reads the pod to tell "someone else bound
// it" from "it changed, try again".
type APIBinder struct {
	Client *client.Client
}

// NewAPIBinder returns a binder using c.
func NewAPIBinder(c *client.Client) *APIBinder { return &APIBinder{Client: c} }

// Bind sets pod.Spec.NodeName = node with the pod's resourceVersion as
// precondition.
func (b *APIBinder) Bind(ctx context.Context, pod *api.Pod, node string) error {
	pods := b.Client.Pods(pod.Namespace)
	_, err := b.Client.BindPod(ctx, pod.Namespace, pod.Name, node, pod.ResourceVersion)
	switch {
	case err == nil:
		return nil
	case api.IsNotFound(err):
		return fmt.Errorf("binding pod %s to node %s: %w", pod.Key(), node, ErrPodGone)
	case !api.IsConflict(err):
		return fmt.Errorf("binding pod %s to node %s: %w", pod.Key(), node, err)
	}
	cur, gerr := pods.Get(ctx, pod.Name)
	switch {
	case api.IsNotFound(gerr):
		return fmt.Errorf("binding pod %s to node %s: %w", pod.Key(), node, ErrPodGone)
	case gerr != nil:
		return fmt.Errorf("binding pod %s to node %s: re-reading after conflict: %w", pod.Key(), node, gerr)
	case cur.Spec.NodeName != "":
		return fmt.Errorf("binding pod %s to node %s: %w (to %s)", pod.Key(), node, ErrAlreadyBound, cur.Spec.NodeName)
	case cur.UID != pod.UID:
		return fmt.Errorf("binding pod %s to node %s: %w (re-created)", pod.Key(), node, ErrPodGone)
	}
	return fmt.Errorf("binding pod %s to node %s: the pod changed meanwhile: %w", pod.Key(), node, err)
}

// MemoryBinder records bindings in memory (benchmarks, tests, previews).
type MemoryBinder struct {
	mu       sync.Mutex
	bindings map[string]string
	// OnBind, if set, is called after each binding, outside the lock.
	OnBind func(pod *api.Pod, node string)
}

// NewMemoryBinder returns an empty in-memory binder.
func NewMemoryBinder() *MemoryBinder { return &MemoryBinder{bindings: map[string]string{}} }

// Bind records the binding; binding a pod twice is ErrAlreadyBound.
func (m *MemoryBinder) Bind(_ context.Context, pod *api.Pod, node string) error {
	key := pod.Key()
	m.mu.Lock()
	if prev, ok := m.bindings[key]; ok {
		m.mu.Unlock()
		return fmt.Errorf("binding pod %s to node %s: %w (to %s)", key, node, ErrAlreadyBound, prev)
	}
	m.bindings[key] = node
	m.mu.Unlock()
	if m.OnBind != nil {
		m.OnBind(pod, node)
	}
	return nil
}

// Len is the number of bindings made.
func (m *MemoryBinder) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bindings)
}

// Bindings returns a copy of pod key -> node.
func (m *MemoryBinder) Bindings() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]string, len(m.bindings))
	for k, v := range m.bindings {
		out[k] = v
	}
	return out
}
