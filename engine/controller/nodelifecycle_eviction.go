package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Eviction of pods from nodes with NoExecute taints (the "taint manager").
//
// A pod's deadline is computed from the taint's timeAdded, which lives on
// the Node object, so a controller that restarts (or a new leader) evicts
// at the same moment the old one would have: a deadline already past when
// it starts is acted on at once, not restarted from zero.

// nlNodeState is what the controller remembers about one tainted node.
type nlNodeState struct {
	// deadlines maps pod UID to the time the pod must be gone.
	deadlines map[string]time.Time
	// taintSeen stands in for the timeAdded of taints set without one
	// (key/effect -> when this controller first saw it).
	taintSeen map[string]time.Time
}

// evictPods deletes the node's pods whose eviction deadline has passed, as
// far as the eviction limiter allows, and looks at the node again when
// the next deadline falls due.
func (c *NodeLifecycleController) evictPods(ctx context.Context, node *api.Node, now time.Time) error {
	deadlines := c.evictionDeadlines(node, now)
	var next time.Time
	for _, p := range c.pods.ByIndex(IndexNodeName, node.Name) {
		deadline, ok := deadlines[p.UID]
		if !ok || p.DeletionTimestamp != nil {
			continue
		}
		if now.Before(deadline) {
			next = nlEarliest(next, deadline)
			continue
		}
		if allowed, wait := c.limiter.allow(node.Name, now); !allowed {
			next = nlEarliest(next, now.Add(wait))
			continue
		}
		if err := c.evict(ctx, node, p); err != nil {
			return err
		}
	}
	if !next.IsZero() {
		c.runner.EnqueueAfter(node.Name, next.Sub(now)+10*time.Millisecond)
	}
	return nil
}

// evictionDeadlines recomputes and remembers the deadlines of the node's pods.
func (c *NodeLifecycleController) evictionDeadlines(node *api.Node, now time.Time) map[string]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !nlHasNoExecute(node.Spec.Taints) {
		delete(c.state, node.Name)
		return nil
	}
	st := c.state[node.Name]
	if st == nil {
		st = &nlNodeState{taintSeen: map[string]time.Time{}}
		c.state[node.Name] = st
	}
	since := func(t api.Taint) time.Time {
		if t.TimeAdded != nil {
			return *t.TimeAdded
		}
		id := t.Key + "/" + string(t.Effect)
		if _, ok := st.taintSeen[id]; !ok {
			st.taintSeen[id] = now
		}
		return st.taintSeen[id]
	}
	st.deadlines = map[string]time.Time{}
	for _, p := range c.pods.ByIndex(IndexNodeName, node.Name) {
		if at, ok := nlEvictionDeadline(node.Spec.Taints, p.Spec.Tolerations, c.d.Config.PodEvictionTimeout, since); ok {
			st.deadlines[p.UID] = at
		}
	}
	return st.deadlines
}

func (c *NodeLifecycleController) evict(ctx context.Context, node *api.Node, p *api.Pod) error {
	err := c.d.Client.Pods(p.Namespace).Delete(ctx, p.Name, client.DeleteOptions{ResourceVersion: p.ResourceVersion})
	if api.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("evicting pod %s from node %s: %w", p.Key(), node.Name, err)
	}
	c.d.Log.Info("evicted pod from tainted node", "pod", p.Key(), "node", node.Name)
	c.d.Recorder.Eventf(p, api.EventWarning, ReasonTaintManagerEviction, "Marking for deletion Pod %s (node %s is tainted)", p.Key(), node.Name)
	return nil
}

// nlEvictionDeadline returns when a pod with these tolerations must leave
// a node with these taints, or false when it may stay. For each NoExecute
// taint (since(taint) tells when it was added): a pod that does not
// tolerate it goes after timeout; one that does goes after the smallest
// tolerationSeconds of its matching tolerations, or never when none of
// them has tolerationSeconds. The earliest taint decides.
func nlEvictionDeadline(taints []api.Taint, tolerations []api.Toleration, timeout time.Duration, since func(api.Taint) time.Time) (time.Time, bool) {
	var deadline time.Time
	found := false
	for _, taint := range taints {
		if taint.Effect != api.TaintNoExecute {
			continue
		}
		wait, bounded := timeout, true
		matched := false
		for _, tol := range tolerations {
			if !nlTolerates(tol, taint) {
				continue
			}
			if !matched {
				matched, bounded = true, false
			}
			if tol.TolerationSeconds != nil {
				secs := time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second
				if !bounded || secs < wait {
					wait = secs
				}
				bounded = true
			}
		}
		if !bounded {
			continue
		}
		at := since(taint).Add(wait)
		if !found || at.Before(deadline) {
			deadline, found = at, true
		}
	}
	return deadline, found
}

// nlTolerates reports whether a toleration matches a taint: same effect
// (or any, when empty), same key (or any, when empty with Exists), and the
// same value unless the operator is Exists.
func nlTolerates(tol api.Toleration, taint api.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != taint.Key {
		return false
	}
	switch tol.Operator {
	case api.TolerationOpExists:
		return true
	case "", api.TolerationOpEqual:
		return tol.Key != "" && tol.Value == taint.Value
	}
	return false
}

func nlEarliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// nlDisrupted reports whether the cluster looks partitioned rather than
// short of a few machines: at least 3 nodes are not ready and they are
// more than threshold of all nodes (Kubernetes' partial disruption rule).
func nlDisrupted(total, notReady int, threshold float64) bool {
	return notReady >= 3 && float64(notReady) > threshold*float64(total)
}

// nlEvictionLimiter lets evictions go ahead freely in a healthy cluster and
// from at most one more node per interval in a disrupted one. A node that
// was allowed to start evicting may finish, until it is ready again.
type nlEvictionLimiter struct {
	threshold float64
	interval  time.Duration

	mu        sync.Mutex
	disrupted bool
	granted   map[string]bool
	lastGrant time.Time
}

func newNLEvictionLimiter(threshold float64, interval time.Duration) *nlEvictionLimiter {
	return &nlEvictionLimiter{threshold: threshold, interval: interval, granted: map[string]bool{}}
}

// observe records the cluster's health and reports whether the cluster
// just entered or just left the disrupted state.
func (l *nlEvictionLimiter) observe(total, notReady int) (entered, left bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.disrupted
	l.disrupted = nlDisrupted(total, notReady, l.threshold)
	return l.disrupted && !was, was && !l.disrupted
}

// allow reports whether a pod of the node may be evicted now or, when
// not, how long until another node may start.
func (l *nlEvictionLimiter) allow(node string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.granted[node] {
		return true, 0
	}
	if l.disrupted && !l.lastGrant.IsZero() {
		if since := now.Sub(l.lastGrant); since < l.interval {
			return false, l.interval - since
		}
	}
	l.granted[node] = true
	l.lastGrant = now
	return true, 0
}

// forget drops a node that is ready again (or gone).
func (l *nlEvictionLimiter) forget(node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.granted, node)
}
