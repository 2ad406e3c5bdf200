package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPodJSONRoundTrip(t *testing.T) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := defaulted(realisticDeployment(), nil)
	p := &Pod{
		ObjectMeta: ObjectMeta{Name: "checkout-5d4f8-x7k2p", Namespace: "shop", UID: "9b2e", ResourceVersion: 42, Generation: 1,
			Labels: d.Spec.Template.Labels, CreationTimestamp: created,
			OwnerReferences: []OwnerReference{{APIVersion: APIVersion, Kind: "ReplicaSet", Name: "checkout-5d4f8", UID: "3f1c", Controller: Ptr(true)}}},
		Spec: d.Spec.Template.Spec,
		Status: PodStatus{Phase: PodRunning, PodIP: "10.1.0.4", StartTime: &created,
			Conditions: []Condition{{Type: PodReady, Status: ConditionTrue, LastTransitionTime: created}},
			ContainerStatuses: []ContainerStatus{{Name: "app", Ready: true, RestartCount: 2,
				State: ContainerState{Running: &ContainerStateRunning{StartedAt: created}},
				LastState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled",
					StartedAt: created.Add(-time.Hour), FinishedAt: created}}}}},
	}
	SetTypeMeta(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Pod
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		again, _ := json.Marshal(&back)
		t.Errorf("round trip changed the pod:\n sent %s\n got  %s", b, again)
	}
	for _, field := range []string{`"kind":"Pod"`, `"apiVersion":"v1"`, `"containerPort":8080`, `"terminationGracePeriodSeconds":45`,
		`"matchExpressions"`, `"lastState":{"terminated"`, `"creationTimestamp":"2025-03-01T12:00:00Z"`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s: %s", field, b)
		}
	}
}

// TestJSONOmitsEmptyStatus: an object without status is written without a
// "status" key, as clients (and diffs of manifests) expect.
func TestJSONOmitsEmptyStatus(t *testing.T) {
	cases := []struct {
		name       string
		obj        Object
		wantStatus bool
	}{
		{"new pod", pod(nil), false},
		{"running pod", pod(func(p *Pod) { p.Status.Phase = PodRunning }), true},
		{"new deployment", deployment(nil), false},
		{"new service", service(nil), false},
		{"new node", node(nil), false},
		{"new autoscaler", autoscaler(nil), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if _, ok := m["status"]; ok != tc.wantStatus {
				t.Errorf("status present = %v, want %v: %s", ok, tc.wantStatus, b)
			}
			if _, ok := m["metadata"]; !ok {
				t.Errorf("metadata missing: %s", b)
			}
			if strings.Contains(string(b), `"creationTimestamp"`) || strings.Contains(string(b), `"deletionTimestamp"`) {
				t.Errorf("zero timestamps written: %s", b)
			}
		})
	}
}

// TestQuantityJSONRoundTrip: a request written as "1000m" is the same
// request as "1" after it goes over the wire, so a client's re-submitted
// manifest is not seen as a change.
func TestQuantityJSONRoundTrip(t *testing.T) {
	manifest := `{"metadata":{"name":"web","namespace":"default"},"spec":{"containers":[{"name":"app","image":"nginx:1.27",` +
		`"resources":{"requests":{"cpu":"1000m","memory":"1024Mi"},"limits":{"cpu":2,"memory":"1Gi"}}}]}}`
	var p Pod
	if err := json.Unmarshal([]byte(manifest), &p); err != nil {
		t.Fatal(err)
	}
	r := p.Spec.Containers[0].Resources
	if got := r.Requests[ResourceCPU]; got.Cmp(qty("1")) != 0 || got.MilliValue() != 1000 {
		t.Errorf("cpu request 1000m decodes as %s (%dm), want 1", got.String(), got.MilliValue())
	}
	if got := r.Requests[ResourceMemory]; got.Cmp(r.Limits[ResourceMemory]) != 0 {
		t.Errorf("1024Mi = %s, 1Gi = %s; want equal", got.String(), r.Limits[ResourceMemory].String())
	}
	if got := r.Limits[ResourceCPU]; got.Cmp(qty("2")) != 0 {
		t.Errorf("unquoted cpu limit 2 decodes as %s", got.String())
	}

	b, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	var back Pod
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	br := back.Spec.Containers[0].Resources
	for _, list := range []struct {
		name      string
		got, want ResourceList
	}{{"requests", br.Requests, r.Requests}, {"limits", br.Limits, r.Limits}} {
		for name, want := range list.want {
			if got := list.got[name]; got.Cmp(want) != 0 {
				t.Errorf("%s[%s] after round trip = %s, want %s", list.name, name, got.String(), want.String())
			}
		}
	}
	if !DesiredStateEqual(&p, &back) {
		t.Errorf("pod differs from itself after a JSON round trip:\n%s", b)
	}
	if errs := Validate(defaulted(&back, nil)); len(errs) != 0 {
		t.Errorf("round-tripped pod invalid: %v", errs)
	}
}
