package scheduler

import (
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// The informer handlers route every change to the cache (bound pods,
// nodes) or the queue (pods waiting for this scheduler), and tell the
// queue which unschedulable pods the change could help.

func (s *Scheduler) podHandler() client.Handler[*api.Pod] {
	return client.Handler[*api.Pod]{
		OnAdd:    s.onPodAdd,
		OnUpdate: s.onPodUpdate,
		OnDelete: s.onPodDelete,
	}
}

func (s *Scheduler) nodeHandler() client.Handler[*api.Node] {
	return client.Handler[*api.Node]{
		OnAdd: func(n *api.Node) {
			s.cache.AddNode(n)
			s.queue.MoveAllToActive(AllReasons)
		},
		OnUpdate: func(old, n *api.Node) {
			s.cache.UpdateNode(n)
			if nodeChangeMatters(old, n) {
				s.queue.MoveAllToActive(AllReasons)
			}
		},
		OnDelete: func(n *api.Node) { s.cache.RemoveNode(n.Name) },
	}
}

// responsibleFor reports whether the pod is waiting for this scheduler.
func (s *Scheduler) responsibleFor(p *api.Pod) bool {
	return p.Spec.NodeName == "" && !api.IsPodTerminal(p) && p.DeletionTimestamp == nil &&
		(p.Spec.SchedulerName == "" || p.Spec.SchedulerName == s.cfg.SchedulerName)
}

func (s *Scheduler) onPodAdd(p *api.Pod) {
	if p.Spec.NodeName != "" {
		s.queue.Delete(p.Key())
		if !api.IsPodTerminal(p) {
			s.cache.AddPod(p)
			s.queue.MoveAllToActive(PodAddedReasons)
		}
		return
	}
	if s.responsibleFor(p) {
		s.enqueue(p)
	}
}

func (s *Scheduler) onPodUpdate(old, p *api.Pod) {
	if p.Spec.NodeName == "" {
		if s.responsibleFor(p) {
			s.enqueue(p)
		} else {
			s.queue.Delete(p.Key())
		}
		return
	}
	if old.Spec.NodeName == "" {
		// Just bound (by us, confirming the assumption, or by someone).
		s.onPodAdd(p)
		return
	}
	if api.IsPodTerminal(p) {
		if s.cache.RemovePod(p.Key()) {
			s.queue.MoveAllToActive(FreedReasons)
		}
		return
	}
	s.cache.UpdatePod(p)
	if !mapsEqual(old.Labels, p.Labels) {
		s.queue.MoveAllToActive(LabelReasons)
	}
}

func (s *Scheduler) onPodDelete(p *api.Pod) {
	s.queue.Delete(p.Key())
	if s.cache.RemovePod(p.Key()) {
		s.queue.MoveAllToActive(FreedReasons)
	}
}

// enqueue adds or refreshes a pending pod in the queue.
func (s *Scheduler) enqueue(p *api.Pod) {
	pi, err := NewPodInfo(p)
	if err != nil {
		// API validation refuses such pods, so this is a bug elsewhere.
		// Placing the pod with a term ignored could break a rule the user
		// relies on (anti-affinity), so it is not scheduled at all.
		s.log.Error("not scheduling pod with invalid scheduling terms", "pod", pi.Key, "err", err)
		s.queue.Delete(pi.Key)
		return
	}
	s.queue.Update(pi)
}

// nodeChangeMatters reports whether a node update could let a pending pod
// fit: heartbeats alone (the most frequent node update) do not.
func nodeChangeMatters(old, n *api.Node) bool {
	if api.IsNodeReady(old) != api.IsNodeReady(n) || old.Spec.Unschedulable != n.Spec.Unschedulable ||
		networkUnavailable(old) != networkUnavailable(n) {
		return true
	}
	if !mapsEqual(old.Labels, n.Labels) || !slices.EqualFunc(old.Spec.Taints, n.Spec.Taints, taintEqual) {
		return true
	}
	return !resourceListEqual(old.Status.Allocatable, n.Status.Allocatable) ||
		!resourceListEqual(old.Status.Capacity, n.Status.Capacity)
}

func taintEqual(a, b api.Taint) bool {
	return a.Key == b.Key && a.Value == b.Value && a.Effect == b.Effect
}

func resourceListEqual(a, b api.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		if o, ok := b[k]; !ok || !q.Equal(o) {
			return false
		}
	}
	return true
}
