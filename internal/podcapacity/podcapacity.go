// Package podcapacity tells a rollout wait what the cluster autoscaler
// said of its pending pods, so that `maestro rollout status` and the
// Terraform provider decide the same way: pods a node pool is adding
// nodes for are worth waiting for ("waiting for node pool web to add 1
// node(s)"); a pod no pool could ever hold fails the wait at once.
package podcapacity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
)

// Result is what the cluster autoscaler said of a set of pods.
type Result struct {
	// Waiting lists, once each, what pods wait for ("waiting for node
	// pool web to add 1 node(s) (size 2, max 4)").
	Waiting []string
	// Never says why a pod can never run (no pool can hold it); nil when
	// every pod may still run.
	Never error
}

// Message is Waiting as one line ("" when nothing waits).
func (r Result) Message() string { return strings.Join(r.Waiting, "; ") }

// Pending reports whether the scheduler found no node for p.
func Pending(p *api.Pod) bool {
	if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
		return false
	}
	c := api.FindCondition(p.Status.Conditions, api.PodScheduled)
	return c != nil && c.Status == api.ConditionFalse && c.Reason == api.ReasonUnschedulable
}

// Summarize reads, for each pending pod of pods, the latest of the
// cluster autoscaler's events about it.
func Summarize(pods []*api.Pod, events []*api.Event) Result {
	pending := map[string]*api.Pod{}
	for _, p := range pods {
		if Pending(p) {
			pending[p.Name] = p
		}
	}
	latest := map[string]*api.Event{}
	for _, ev := range events {
		o := ev.InvolvedObject
		p, ok := pending[o.Name]
		if o.Kind != "Pod" || !ok || o.Namespace != p.Namespace || o.UID != "" && o.UID != p.UID ||
			ev.Reason != api.ReasonTriggeredScaleUp && ev.Reason != api.ReasonNotTriggerScaleUp {
			continue
		}
		if cur := latest[o.Name]; cur == nil || !eventTime(ev).Before(eventTime(cur)) {
			latest[o.Name] = ev
		}
	}
	var r Result
	for _, name := range slices.Sorted(maps.Keys(latest)) {
		ev := latest[name]
		switch {
		case ev.Reason == api.ReasonNotTriggerScaleUp && strings.HasPrefix(ev.Message, api.MessageNoPoolCanHold):
			if r.Never == nil {
				r.Never = fmt.Errorf("pod %s: %s", name, ev.Message)
			}
		case ev.Reason == api.ReasonTriggeredScaleUp && !slices.Contains(r.Waiting, ev.Message):
			r.Waiting = append(r.Waiting, ev.Message)
		}
	}
	return r
}

func eventTime(ev *api.Event) time.Time {
	for _, t := range []time.Time{ev.LastTimestamp, ev.FirstTimestamp, ev.CreationTimestamp} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Check lists the events of pods' namespace and summarizes them; without
// pending pods it reads nothing.
func Check(ctx context.Context, c *client.Client, ns string, pods []*api.Pod) (Result, error) {
	if !slices.ContainsFunc(pods, Pending) {
		return Result{}, nil
	}
	evs, _, err := c.Events(ns).List(ctx, client.ListOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("listing the events of namespace %s: %w", ns, err)
	}
	return Summarize(pods, evs), nil
}

// ForDeployment checks the pods of a deployment (by its selector).
func ForDeployment(ctx context.Context, c *client.Client, d *api.Deployment) (Result, error) {
	var sel string
	if d.Spec.Selector != nil {
		sel = labels.Set(d.Spec.Selector.MatchLabels).String()
	}
	pods, _, err := c.Pods(d.Namespace).List(ctx, client.ListOptions{LabelSelector: sel})
	if err != nil {
		return Result{}, fmt.Errorf("listing the pods of deployment %s: %w", d.Name, err)
	}
	return Check(ctx, c, d.Namespace, pods)
}
