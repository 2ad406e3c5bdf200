package api

import (
	"testing"
	"time"
)

func TestSetCondition(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	ready := func(status ConditionStatus, reason string) Condition {
		return Condition{Type: PodReady, Status: status, Reason: reason}
	}
	cases := []struct {
		name        string
		existing    []Condition
		set         Condition
		wantChanged bool
		wantLTT     time.Time
		wantLen     int
	}{
		{"new condition", nil, ready(ConditionTrue, ""), true, t1, 1},
		{"new condition next to another", []Condition{{Type: PodScheduled, Status: ConditionTrue, LastTransitionTime: t0}},
			ready(ConditionFalse, "Starting"), true, t1, 2},
		{"same status and reason", []Condition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t0}},
			ready(ConditionTrue, ""), false, t0, 1},
		{"same status, new reason", []Condition{{Type: PodReady, Status: ConditionFalse, Reason: "A", LastTransitionTime: t0}},
			ready(ConditionFalse, "B"), true, t0, 1},
		{"same status, new message", []Condition{{Type: PodReady, Status: ConditionFalse, Message: "a", LastTransitionTime: t0}},
			Condition{Type: PodReady, Status: ConditionFalse, Message: "b"}, true, t0, 1},
		{"status flips", []Condition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t0}},
			ready(ConditionFalse, "ContainersNotReady"), true, t1, 1},
		{"to unknown", []Condition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t0}},
			ready(ConditionUnknown, ReasonNodeLost), true, t1, 1},
		{"existing without transition time gets one", []Condition{{Type: PodReady, Status: ConditionTrue}},
			ready(ConditionTrue, ""), false, t1, 1},
		{"caller's transition time is ignored", []Condition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t0}},
			Condition{Type: PodReady, Status: ConditionTrue, LastTransitionTime: t1.Add(time.Hour)}, false, t0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conds := append([]Condition(nil), tc.existing...)
			changed := SetCondition(&conds, tc.set, t1)
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			if len(conds) != tc.wantLen {
				t.Fatalf("len = %d, want %d: %+v", len(conds), tc.wantLen, conds)
			}
			c := FindCondition(conds, tc.set.Type)
			if c == nil {
				t.Fatalf("condition %s not set: %+v", tc.set.Type, conds)
			}
			if !c.LastTransitionTime.Equal(tc.wantLTT) {
				t.Errorf("lastTransitionTime = %v, want %v", c.LastTransitionTime, tc.wantLTT)
			}
			if c.Status != tc.set.Status || c.Reason != tc.set.Reason || c.Message != tc.set.Message {
				t.Errorf("condition = %+v, want the values set (%+v)", *c, tc.set)
			}
		})
	}
}

// TestSetConditionHeartbeat: renewing a heartbeat is stored but is not a change.
func TestSetConditionHeartbeat(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	conds := []Condition{{Type: NodeReady, Status: ConditionTrue, LastTransitionTime: t0, LastHeartbeatTime: t0}}
	hb := t0.Add(40 * time.Second)
	if SetCondition(&conds, Condition{Type: NodeReady, Status: ConditionTrue, LastHeartbeatTime: hb}, hb) {
		t.Error("heartbeat renewal reported as a change")
	}
	n := &Node{Status: NodeStatus{Conditions: conds}}
	if got := NodeHeartbeat(n); !got.Equal(hb) {
		t.Errorf("heartbeat = %v, want %v", got, hb)
	}
	if !conds[0].LastTransitionTime.Equal(t0) {
		t.Errorf("heartbeat moved the transition time to %v", conds[0].LastTransitionTime)
	}
	if !IsNodeReady(n) {
		t.Error("node with Ready=True not ready")
	}
}

func TestConditionHelpers(t *testing.T) {
	p := &Pod{}
	if IsPodReady(p) || FindCondition(nil, PodReady) != nil {
		t.Error("pod without conditions is ready")
	}
	p.Status.Conditions = []Condition{{Type: PodReady, Status: ConditionFalse}}
	if IsPodReady(p) {
		t.Error("pod with Ready=False is ready")
	}
	p.Status.Conditions[0].Status = ConditionTrue
	if !IsPodReady(p) {
		t.Error("pod with Ready=True is not ready")
	}
	if !NodeHeartbeat(&Node{}).IsZero() || IsNodeReady(&Node{}) {
		t.Error("node without conditions has a heartbeat or is ready")
	}
	for phase, terminal := range map[PodPhase]bool{PodPending: false, PodRunning: false, PodSucceeded: true, PodFailed: true, PodUnknown: false} {
		if got := IsPodTerminal(&Pod{Status: PodStatus{Phase: phase}}); got != terminal {
			t.Errorf("IsPodTerminal(%s) = %v", phase, got)
		}
	}
}

func TestKeyAndControllerRef(t *testing.T) {
	if got := Key("default", "web"); got != "default/web" {
		t.Errorf("Key = %q", got)
	}
	if got := (&ObjectMeta{Name: "node-1"}).Key(); got != "node-1" {
		t.Errorf("cluster-scoped Key = %q", got)
	}
	m := &ObjectMeta{OwnerReferences: []OwnerReference{
		{Kind: "Deployment", Name: "a", UID: "1"},
		{Kind: "ReplicaSet", Name: "b", UID: "2", Controller: Ptr(false)},
		{Kind: "ReplicaSet", Name: "c", UID: "3", Controller: Ptr(true)},
	}}
	if ref := m.ControllerRef(); ref == nil || ref.Name != "c" {
		t.Errorf("ControllerRef = %+v, want c", ref)
	}
	m.OwnerReferences = m.OwnerReferences[:2]
	if ref := m.ControllerRef(); ref != nil {
		t.Errorf("ControllerRef without a controller = %+v", ref)
	}
}

func TestNodeAddressOf(t *testing.T) {
	n := &Node{Status: NodeStatus{Addresses: []NodeAddress{
		{Type: NodeHostName, Address: "node-1"}, {Type: NodeInternalIP, Address: "10.0.0.1"}, {Type: NodeInternalIP, Address: "10.0.0.2"},
	}}}
	if got := NodeAddressOf(n, NodeInternalIP); got != "10.0.0.1" {
		t.Errorf("internal IP = %q, want the first one", got)
	}
	if got := NodeAddressOf(n, NodeExternalIP); got != "" {
		t.Errorf("external IP = %q, want none", got)
	}
}

func TestPodRequests(t *testing.T) {
	spec := &PodSpec{
		InitContainers: []Container{
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: qty("2"), ResourceMemory: qty("64Mi")}}},
		},
		Containers: []Container{
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: qty("250m"), ResourceMemory: qty("128Mi")}}},
			{Resources: ResourceRequirements{Requests: ResourceList{ResourceCPU: qty("500m")}}},
			{},
		},
	}
	got := PodRequests(spec)
	// Init containers run one at a time before the app containers: the pod
	// needs the larger of the biggest init container and the app sum.
	if cpu := got[ResourceCPU]; cpu.Cmp(qty("2")) != 0 {
		t.Errorf("cpu = %s, want 2 (init container)", cpu.String())
	}
	if mem := got[ResourceMemory]; mem.Cmp(qty("128Mi")) != 0 {
		t.Errorf("memory = %s, want 128Mi (app containers)", mem.String())
	}
	if len(PodRequests(&PodSpec{Containers: []Container{{}}})) != 0 {
		t.Error("pod without requests requests something")
	}
}
