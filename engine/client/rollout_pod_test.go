package client

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// TestCheckPod is a single pod's fail-fast decision: the rollout's rules
// (unschedulable past the timeout with no pool adding room, no pool ever
// able to hold it, a crash loop past the restarts) with advice to match.
func TestCheckPod(t *testing.T) {
	now := rolloutT0.Add(time.Minute)
	waitWeb := api.MessageWaitingForPool + "web to add 1 node(s) (size 3, max 4)"
	never := api.MessageNoPoolCanHold + ": node pool web: a new node would not fit it (insufficient cpu)"
	for _, tc := range []struct {
		name      string
		pod       *api.Pod
		events    []*api.Event
		unsched   time.Duration
		reason    RolloutReason // "" keep waiting
		wantError string        // substring of Error()
	}{
		{"running", rolloutPod("p", "", nil), nil, DefaultUnschedulableTimeout, "", ""},
		{"unschedulable, not for long", rolloutPod("p", "", unschedulableSince(now.Add(-10*time.Second), antiAffinityMsg)), nil,
			DefaultUnschedulableTimeout, "", ""},
		{"unschedulable past the timeout", rolloutPod("p", "", unschedulableSince(rolloutT0, antiAffinityMsg)), nil,
			DefaultUnschedulableTimeout, RolloutUnschedulable,
			"pod default/p cannot start: unschedulable for 1m0s with no node pool adding room: " + antiAffinityMsg},
		{"a pool adds room", rolloutPod("p", "", unschedulableSince(rolloutT0, "0/3 nodes available: 3 insufficient cpu")),
			[]*api.Event{podEvent("p", api.ReasonTriggeredScaleUp, waitWeb, now)}, DefaultUnschedulableTimeout, "", ""},
		{"no pool could ever hold it", rolloutPod("p", "", unschedulableSince(now, "0/3 nodes available: 3 insufficient cpu")),
			[]*api.Event{podEvent("p", api.ReasonNotTriggerScaleUp, never, now)}, DefaultUnschedulableTimeout, RolloutNoPoolCanHold,
			"pod default/p cannot start: 0/3 nodes available: 3 insufficient cpu; " + never},
		{"crash loop", rolloutPod("p", "", crashed(DefaultCrashLoopRestarts)), nil, DefaultUnschedulableTimeout, RolloutCrashLoop,
			"pod default/p cannot start: container app: crash loop: exited with code 3 (Error) after 3 restart(s)"},
		{"a few restarts", rolloutPod("p", "", crashed(1)), nil, DefaultUnschedulableTimeout, "", ""},
		{"image failed to pull 3 times", rolloutPod("p", "", pullFailing(api.ReasonImagePullBackOff)),
			[]*api.Event{pullEvent("p", badImage, 3)}, DefaultUnschedulableTimeout, RolloutImagePull,
			`pod default/p cannot start: container app: image "` + badImage + `" failed to pull 3 times`},
		{"image failed to pull once", rolloutPod("p", "", pullFailing(api.ReasonErrImagePull)),
			[]*api.Event{pullEvent("p", badImage, 1)}, DefaultUnschedulableTimeout, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := CheckPod(PodCheck{Pod: tc.pod, Events: tc.events, Now: now,
				UnschedulableTimeout: tc.unsched, CrashLoopRestarts: DefaultCrashLoopRestarts, ImagePullFailures: DefaultImagePullFailures})
			switch {
			case tc.reason == "" && e != nil:
				t.Fatalf("failed (%v); want to keep waiting", e)
			case tc.reason == "":
				return
			case e == nil:
				t.Fatalf("keeps waiting; want %s", tc.reason)
			case e.Reason != tc.reason:
				t.Fatalf("reason %s, want %s (%v)", e.Reason, tc.reason, e)
			}
			if !strings.Contains(e.Error(), tc.wantError) {
				t.Errorf("error %q, want it to contain %q", e.Error(), tc.wantError)
			}
			if e.Advice == "" || e.Advice != RolloutAdvice(e.Reason, e.Message) {
				t.Errorf("advice %q, want RolloutAdvice's for %s", e.Advice, e.Reason)
			}
		})
	}
	// The advice matches the reason: anti-affinity is not fixed by lower requests.
	e := CheckPod(PodCheck{Pod: rolloutPod("p", "", unschedulableSince(rolloutT0, antiAffinityMsg)), Now: now})
	if e == nil || !strings.Contains(e.Advice, "anti-affinity") || strings.Contains(e.Advice, "requests") {
		t.Errorf("advice for an anti-affinity rule: %v", e)
	}
}
