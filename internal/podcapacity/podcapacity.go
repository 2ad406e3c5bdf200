// Package podcapacity tells what the cluster autoscaler said of a set of
// pending pods. The rollout waits (`maestro rollout status`, the Terraform
// provider) now decide in engine/client (CheckRollout, WaitForRollout);
// this package is a thin view of that decision kept for the tests of the
// cluster autoscaler that read it.
package podcapacity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
func Pending(p *api.Pod) bool { return client.PodPending(p) }

// Summarize reads, for each pending pod of pods, the latest of the
// cluster autoscaler's events about it.
func Summarize(pods []*api.Pod, events []*api.Event) Result {
	waiting, never := client.PoolVerdicts(pods, events)
	r := Result{Waiting: waiting}
	if never != nil {
		r.Never = errors.New("pod " + never.Pod + ": " + never.Message)
	}
	return r
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
