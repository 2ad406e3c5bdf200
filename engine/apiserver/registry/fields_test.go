package registry

import (
	"reflect"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestParseFieldSelector(t *testing.T) {
	pods := api.MustKind("pods")
	cases := []struct {
		name string
		kind *api.KindInfo
		in   string
		want FieldSelector
	}{
		{"empty", pods, "", nil},
		{"blank", pods, "   ", nil},
		{"equals", pods, "spec.nodeName=node-1", FieldSelector{{Field: "spec.nodeName", Value: "node-1"}}},
		{"double equals", pods, "spec.nodeName==node-1", FieldSelector{{Field: "spec.nodeName", Value: "node-1"}}},
		{"not equals", pods, "spec.nodeName!=node-1", FieldSelector{{Field: "spec.nodeName", Value: "node-1", Negate: true}}},
		{"empty value selects unbound pods", pods, "spec.nodeName=", FieldSelector{{Field: "spec.nodeName", Value: ""}}},
		{"not empty selects bound pods", pods, "spec.nodeName!=", FieldSelector{{Field: "spec.nodeName", Value: "", Negate: true}}},
		{"value ending in ==", pods, "spec.nodeName==0==", FieldSelector{{Field: "spec.nodeName", Value: "0=="}}},
		{"value starting with =", pods, "spec.nodeName= =x", FieldSelector{{Field: "spec.nodeName", Value: "=x"}}},
		{"value holding !=", pods, "spec.nodeName=a!=b", FieldSelector{{Field: "spec.nodeName", Value: "a!=b"}}},
		{"several terms", pods, "spec.nodeName=node-1,status.phase!=Succeeded,metadata.namespace=default", FieldSelector{
			{Field: "spec.nodeName", Value: "node-1"},
			{Field: "status.phase", Value: "Succeeded", Negate: true},
			{Field: "metadata.namespace", Value: "default"},
		}},
		{"spaces around terms", pods, " spec.nodeName = node-1 , metadata.name!=web ", FieldSelector{
			{Field: "spec.nodeName", Value: "node-1"},
			{Field: "metadata.name", Value: "web", Negate: true},
		}},
		{"value containing '='", pods, "metadata.name=a=b", FieldSelector{{Field: "metadata.name", Value: "a=b"}}},
		{"scheduler name", pods, "spec.schedulerName=default-scheduler", FieldSelector{{Field: "spec.schedulerName", Value: "default-scheduler"}}},
		{"node unschedulable", api.MustKind("nodes"), "spec.unschedulable=true", FieldSelector{{Field: "spec.unschedulable", Value: "true"}}},
		{"event involved object", api.MustKind("events"), "involvedObject.kind=Pod,involvedObject.name=web,type=Warning", FieldSelector{
			{Field: "involvedObject.kind", Value: "Pod"},
			{Field: "involvedObject.name", Value: "web"},
			{Field: "type", Value: "Warning"},
		}},
		{"secret type", api.MustKind("secrets"), "type=Opaque", FieldSelector{{Field: "type", Value: "Opaque"}}},
		{"machine pool", api.MustKind("machines"), "spec.pool=pool-a", FieldSelector{{Field: "spec.pool", Value: "pool-a"}}},
		{"metadata on any kind", api.MustKind("configmaps"), "metadata.name=cfg", FieldSelector{{Field: "metadata.name", Value: "cfg"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFieldSelector(tc.kind, tc.in)
			if err != nil {
				t.Fatalf("ParseFieldSelector(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseFieldSelector(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseFieldSelectorErrors(t *testing.T) {
	const podFields = "metadata.name, metadata.namespace, spec.nodeName, spec.schedulerName, status.phase"
	cases := []struct {
		name string
		kind string
		in   string
		want []string // parts of the message
	}{
		{"unsupported field names the supported ones", "pods", "spec.hostname=web",
			[]string{`field "spec.hostname" is not supported for pods`, "(supported: " + podFields + ")"}},
		{"field of another kind", "deployments", "spec.nodeName=node-1",
			[]string{`field "spec.nodeName" is not supported for deployments`, "(supported: metadata.name, metadata.namespace)"}},
		{"field names are case-sensitive", "pods", "spec.nodename=node-1", []string{`field "spec.nodename"`}},
		{"unsupported among supported", "pods", "spec.nodeName=node-1,spec.priority=5", []string{`field "spec.priority"`}},
		{"no operator", "pods", "spec.nodeName", []string{`term "spec.nodeName" must be field=value or field!=value`}},
		{"empty term", "pods", "spec.nodeName=node-1,", []string{`term "" must be field=value`}},
		{"label syntax", "pods", "spec.nodeName in (a,b)", []string{"must be field=value"}},
		{"empty field", "pods", "=node-1", []string{`field "" is not supported`}},
		{"node field on pods", "pods", "spec.unschedulable=true", []string{`field "spec.unschedulable"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseFieldSelector(api.MustKind(tc.kind), tc.in)
			if err == nil {
				t.Fatalf("ParseFieldSelector(%q) = %v, want an error", tc.in, sel)
			}
			for _, part := range append(tc.want, tc.in) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}

func TestFieldSelectorMatchesPods(t *testing.T) {
	pod := func(name, node string, phase api.PodPhase) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
			Spec: api.PodSpec{NodeName: node}, Status: api.PodStatus{Phase: phase}}
	}
	pods := []*api.Pod{
		pod("a", "node-1", api.PodRunning),
		pod("b", "node-2", api.PodRunning),
		pod("c", "", api.PodPending),
		pod("d", "node-1", api.PodSucceeded),
		pod("node-1", "node-3", api.PodRunning),
	}
	cases := []struct {
		sel  string
		want []string
	}{
		{"", []string{"a", "b", "c", "d", "node-1"}},
		{"spec.nodeName=node-1", []string{"a", "d"}},
		{"spec.nodeName==node-1", []string{"a", "d"}},
		{"spec.nodeName!=node-1", []string{"b", "c", "node-1"}},
		{"spec.nodeName=", []string{"c"}},
		{"spec.nodeName!=", []string{"a", "b", "d", "node-1"}},
		{"spec.nodeName=node-9", nil},
		{"spec.nodeName=node-1,status.phase!=Succeeded", []string{"a"}},
		{"spec.nodeName=node-1,spec.nodeName=node-2", nil},
		{"status.phase=Running,metadata.name!=a", []string{"b", "node-1"}},
		{"metadata.name=node-1", []string{"node-1"}},
		{"metadata.namespace=default", []string{"a", "b", "c", "d", "node-1"}},
		{"metadata.namespace=kube-system", nil},
	}
	kind := api.MustKind("pods")
	for _, tc := range cases {
		t.Run(tc.sel, func(t *testing.T) {
			sel, err := ParseFieldSelector(kind, tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pods {
				if sel.Matches(p) {
					got = append(got, p.Name)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q matches %v, want %v", tc.sel, got, tc.want)
			}
		})
	}
}

func TestFieldSelectorMatchesOtherKinds(t *testing.T) {
	cases := []struct {
		name  string
		kind  string
		sel   string
		obj   api.Object
		match bool
	}{
		{"cordoned node", "nodes", "spec.unschedulable=true", &api.Node{Spec: api.NodeSpec{Unschedulable: true}}, true},
		{"schedulable node", "nodes", "spec.unschedulable=true", &api.Node{}, false},
		{"schedulable node by false", "nodes", "spec.unschedulable=false", &api.Node{}, true},
		{"event of a pod", "events", "involvedObject.kind=Pod,involvedObject.name=web",
			&api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "web"}}, true},
		{"event of a deployment", "events", "involvedObject.kind=Pod",
			&api.Event{InvolvedObject: api.ObjectReference{Kind: "Deployment", Name: "web"}}, false},
		{"event by uid", "events", "involvedObject.uid=123", &api.Event{InvolvedObject: api.ObjectReference{UID: "123"}}, true},
		{"warning event", "events", "type!=Normal", &api.Event{Type: api.EventWarning, Reason: "BackOff"}, true},
		{"event reason", "events", "reason=BackOff", &api.Event{Reason: "Pulled"}, false},
		{"secret type", "secrets", "type=Opaque", &api.Secret{Type: api.SecretTypeOpaque}, true},
		{"machine pool", "machines", "spec.pool=pool-a", &api.Machine{Spec: api.MachineSpec{Pool: "pool-b"}}, false},
		{"config map name", "configmaps", "metadata.name=cfg", &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cfg"}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseFieldSelector(api.MustKind(tc.kind), tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(tc.obj); got != tc.match {
				t.Errorf("%q matches = %v, want %v", tc.sel, got, tc.match)
			}
		})
	}
}

// TestFieldSelectorValue: the API server authorizes a node's pod list by the
// node name the selector pins; only an equality pins a value.
func TestFieldSelectorValue(t *testing.T) {
	pods := api.MustKind("pods")
	cases := []struct {
		sel    string
		value  string
		pinned bool
	}{
		{"", "", false},
		{"spec.nodeName=node-1", "node-1", true},
		{"spec.nodeName==node-1", "node-1", true},
		{"spec.nodeName=", "", true},
		{"spec.nodeName!=node-1", "", false},
		{"status.phase=Running", "", false},
		{"status.phase=Running,spec.nodeName=node-2", "node-2", true},
		{"spec.nodeName!=node-2,spec.nodeName=node-1", "node-1", true},
	}
	for _, tc := range cases {
		t.Run(tc.sel, func(t *testing.T) {
			sel, err := ParseFieldSelector(pods, tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := sel.Value("spec.nodeName")
			if v != tc.value || ok != tc.pinned {
				t.Errorf("Value(spec.nodeName) = %q, %v; want %q, %v", v, ok, tc.value, tc.pinned)
			}
		})
	}
}

// TestFieldSelectorValueCannotWiden: a selector that pins a node name can
// only ever match pods on that node, whatever else it says, so authorizing
// by Value is safe.
func TestFieldSelectorValueCannotWiden(t *testing.T) {
	pods := api.MustKind("pods")
	others := []*api.Pod{
		{Spec: api.PodSpec{NodeName: "node-2"}},
		{Spec: api.PodSpec{}},
		{ObjectMeta: api.ObjectMeta{Name: "node-1"}, Spec: api.PodSpec{NodeName: "node-3"}},
	}
	for _, s := range []string{
		"spec.nodeName=node-1",
		"spec.nodeName=node-1,spec.nodeName!=node-1",
		"spec.nodeName!=node-2,spec.nodeName=node-1",
		"metadata.name=node-1,spec.nodeName=node-1",
		" spec.nodeName = node-1 ",
	} {
		sel, err := ParseFieldSelector(pods, s)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := sel.Value("spec.nodeName"); !ok || v != "node-1" {
			t.Fatalf("%q pins %q, %v", s, v, ok)
		}
		for _, p := range others {
			if sel.Matches(p) {
				t.Errorf("%q pins node-1 but matches a pod on %q", s, p.Spec.NodeName)
			}
		}
	}
}

func TestFieldSelectorString(t *testing.T) {
	pods := api.MustKind("pods")
	for in, want := range map[string]string{
		"spec.nodeName=node-1":                    "spec.nodeName=node-1",
		"spec.nodeName==node-1":                   "spec.nodeName=node-1",
		" spec.nodeName != node-1 ,status.phase=": "spec.nodeName!=node-1,status.phase=",
		"": "",
	} {
		sel, err := ParseFieldSelector(pods, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.String(); got != want {
			t.Errorf("String of %q = %q, want %q", in, got, want)
		}
		// The canonical form parses back to the same selector.
		again, err := ParseFieldSelector(pods, sel.String())
		if err != nil || !reflect.DeepEqual(again, sel) {
			t.Errorf("%q re-parses as %v, %v", sel.String(), again, err)
		}
	}
}

// TestFieldSelectorStringRoundTrip: String prints what ParseFieldSelector
// reads back as the same selector (clients and the watch cache pass
// selectors on as text). Found by FuzzParseFieldSelector: "f==0==" printed
// as "f=0==", which split at its last "==" into an unsupported field, and
// "f= =x" printed as "f==x", which lost the value's "=".
func TestFieldSelectorStringRoundTrip(t *testing.T) {
	pods := api.MustKind("pods")
	for _, in := range []string{"spec.nodeName==0==", "spec.nodeName= =x", "spec.nodeName===x", "spec.nodeName!==x", "spec.nodeName=a!=b,status.phase!=Running"} {
		sel, err := ParseFieldSelector(pods, in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		again, err := ParseFieldSelector(pods, sel.String())
		if err != nil || !reflect.DeepEqual(again, sel) {
			t.Errorf("%q -> %q -> %#v, %v; want %#v", in, sel.String(), again, err, sel)
		}
	}
}
