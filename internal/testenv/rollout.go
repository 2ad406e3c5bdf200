package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/loadgen"
)

// RolloutUnderLoad is a rolling update checked from a client's side: load
// runs through a service while a deployment changes, and no request may
// fail.
type RolloutUnderLoad struct {
	Client          *client.Client
	Namespace, Name string
	// Load is the load's configuration (URL, rate...); its Duration is
	// only an upper bound: the load stops 2 s after the rollout completes
	// (later if an open loop needs longer for MinRequests).
	Load loadgen.Config
	// Change is applied to the deployment to start the rollout.
	Change func(*api.Deployment)
	// MinRequests proves the load ran; Want must be in the last answer
	// (the new version serves).
	MinRequests int
	Want        string
	// Timeout bounds the rollout (default 4 minutes).
	Timeout time.Duration
}

// Run starts the load, changes the deployment, waits for the rollout to
// complete, stops the load and fails t unless every request succeeded.
func (ro RolloutUnderLoad) Run(ctx context.Context, t testing.TB) loadgen.Result {
	t.Helper()
	if ro.Timeout == 0 {
		ro.Timeout = 4 * time.Minute
	}
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	res := make(chan loadgen.Result, 1)
	go func() { res <- loadgen.Run(loadCtx, ro.Load) }()
	time.Sleep(time.Second)
	deployments := ro.Client.Deployments(ro.Namespace)
	d, err := deployments.Get(ctx, ro.Name)
	if err != nil {
		t.Fatal(err)
	}
	ro.Change(d)
	if _, err := deployments.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ro.Timeout)
	for {
		d, err := deployments.Get(ctx, ro.Name)
		done, state := false, fmt.Sprint(err)
		if err == nil {
			done, state = rolledOut(d)
		}
		if done {
			// The old pods may still serve while they shut down (an
			// application's drain after SIGTERM): the new version alone
			// answers once they are gone.
			done, state = ro.oldPodsGone(ctx, d)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout of %s/%s not complete within %v: %s", ro.Namespace, ro.Name, ro.Timeout, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Serve 2 s more on the new version, and long enough at an open
	// loop's rate for MinRequests (a quick rollout is not a failed load).
	until := time.Now().Add(2 * time.Second)
	if ro.Load.Rate > 0 {
		if enough := start.Add(time.Duration(float64(ro.MinRequests) / ro.Load.Rate * 1.2 * float64(time.Second))); enough.After(until) {
			until = enough
		}
	}
	time.Sleep(time.Until(until))
	cancel()
	r := <-res
	t.Logf("load during the rollout: %s", r.Summary())
	if len(r.Samples) < ro.MinRequests {
		t.Fatalf("only %d requests (want at least %d): the load did not run", len(r.Samples), ro.MinRequests)
	}
	if f := r.Failures(); len(f) > 0 {
		t.Fatalf("%d of %d requests failed during the rolling update; first: %+v", len(f), len(r.Samples), f[0])
	}
	if last := r.Samples[len(r.Samples)-1].Body; !strings.Contains(last, ro.Want) {
		t.Fatalf("after the rollout the service answers %q, want %q in it", last, ro.Want)
	}
	return r
}

// rolledOut reports whether every replica of d runs its current template
// and is available.
func rolledOut(d *api.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want,
		fmt.Sprintf("updated %d replicas %d available %d of %d", st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, want)
}

// oldPodsGone reports whether no pod of the deployment is terminating.
func (ro RolloutUnderLoad) oldPodsGone(ctx context.Context, d *api.Deployment) (bool, string) {
	if d.Spec.Selector == nil {
		return true, ""
	}
	pods, _, err := ro.Client.Pods(ro.Namespace).List(ctx, client.ListOptions{LabelSelector: labels.Set(d.Spec.Selector.MatchLabels).String()})
	if err != nil {
		return false, err.Error()
	}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			return false, "pod " + p.Name + " of the old version is still shutting down"
		}
	}
	return true, ""
}
