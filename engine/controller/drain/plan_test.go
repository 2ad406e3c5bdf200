package drain

import (
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

func pod(name, ownerKind string, mut ...func(*api.Pod)) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec: api.PodSpec{NodeName: "n1"}, Status: api.PodStatus{Phase: api.PodRunning}}
	if ownerKind != "" {
		p.OwnerReferences = []api.OwnerReference{{Kind: ownerKind, Name: "rs-" + name, UID: "owner-" + name, Controller: api.Ptr(true)}}
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func deleting(p *api.Pod)  { p.DeletionTimestamp = api.Ptr(time.Now()) }
func succeeded(p *api.Pod) { p.Status.Phase = api.PodSucceeded }

func owner(name string) Owner {
	return Owner{Namespace: "default", Kind: "ReplicaSet", Name: "rs-" + name, UID: "owner-" + name}
}

func names(ps []*api.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name        string
		pods        []*api.Pod
		owners      []Owner
		stuck       bool            // no other node takes pods
		back        map[string]bool // owner name -> runs elsewhere
		wantEvict   []string
		wantSkipped []string
		wantOwners  []Owner
		wantWaiting int
		wantDone    bool
	}{
		{name: "empty node: done", wantDone: true},
		{name: "managed pod: evicted, waited for",
			pods:      []*api.Pod{pod("a", "ReplicaSet")},
			wantEvict: []string{"a"}, wantOwners: []Owner{owner("a")}, wantWaiting: 2},
		{name: "unmanaged pod: evicted too, nothing to wait for once gone",
			pods:      []*api.Pod{pod("bare", "")},
			wantEvict: []string{"bare"}, wantWaiting: 1},
		{name: "daemon-like pods stay and do not hold the drain",
			pods:        []*api.Pod{pod("d", "DaemonSet"), pod("m", "Node")},
			wantSkipped: []string{"default/d", "default/m"}, wantDone: true},
		{name: "finished pods are deleted and not waited for",
			pods:      []*api.Pod{pod("job", "", succeeded)},
			wantEvict: []string{"job"}, wantDone: true},
		{name: "terminating pod: waited for, not evicted again",
			pods:       []*api.Pod{pod("a", "ReplicaSet", deleting)},
			back:       map[string]bool{"rs-a": true},
			wantOwners: []Owner{owner("a")}, wantWaiting: 1},
		{name: "pods gone but the owner's replacement not Ready yet",
			owners:     []Owner{owner("a")},
			wantOwners: []Owner{owner("a")}, wantWaiting: 1},
		{name: "pods gone and the owner's pods run elsewhere: done",
			owners: []Owner{owner("a")}, back: map[string]bool{"rs-a": true},
			wantOwners: []Owner{owner("a")}, wantDone: true},
		{name: "no other node takes pods: only the evicted pods are waited for",
			pods: []*api.Pod{pod("a", "ReplicaSet")}, owners: []Owner{owner("b")}, stuck: true,
			wantEvict: []string{"a"}, wantOwners: []Owner{owner("b"), owner("a")}, wantWaiting: 1},
		{name: "no other node, evicted pods gone: done",
			owners: []Owner{owner("a")}, stuck: true,
			wantOwners: []Owner{owner("a")}, wantDone: true},
		{name: "an owner is remembered once",
			pods:   []*api.Pod{pod("a", "ReplicaSet", deleting)},
			owners: []Owner{owner("a")}, back: map[string]bool{"rs-a": true},
			wantOwners: []Owner{owner("a")}, wantWaiting: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Plan(tc.pods, tc.owners, !tc.stuck, func(o Owner) bool { return tc.back[o.Name] })
			if got := names(s.Evict); !slices.Equal(got, tc.wantEvict) {
				t.Errorf("Evict = %v, want %v", got, tc.wantEvict)
			}
			if !slices.Equal(s.Skipped, tc.wantSkipped) {
				t.Errorf("Skipped = %v, want %v", s.Skipped, tc.wantSkipped)
			}
			if !slices.Equal(s.Owners, tc.wantOwners) {
				t.Errorf("Owners = %v, want %v", s.Owners, tc.wantOwners)
			}
			if len(s.Waiting) != tc.wantWaiting || s.Done != tc.wantDone {
				t.Errorf("Waiting = %q, Done = %v; want %d waits, done %v", s.Waiting, s.Done, tc.wantWaiting, tc.wantDone)
			}
		})
	}
}
