package api

import (
	"strings"
	"testing"
)

func TestLookupKind(t *testing.T) {
	cases := []struct {
		name string
		want string
	}{
		{"Deployment", "Deployment"},
		{"deployments", "Deployment"},
		{"deployment", "Deployment"},
		{"deploy", "Deployment"},
		{"DEPLOY", "Deployment"},
		{"DePlOyMeNtS", "Deployment"},
		{"po", "Pod"},
		{"pods", "Pod"},
		{"svc", "Service"},
		{"ns", "Namespace"},
		{"no", "Node"},
		{"np", "NodePool"},
		{"nodepool", "NodePool"},
		{"ma", "Machine"},
		{"rs", "ReplicaSet"},
		{"replicaset", "ReplicaSet"},
		{"ep", "Endpoints"},
		{"endpoints", "Endpoints"},
		{"endpoint", "Endpoints"},
		{"cm", "ConfigMap"},
		{"configmaps", "ConfigMap"},
		{"secret", "Secret"},
		{"Secrets", "Secret"},
		{"hpa", "Autoscaler"},
		{"autoscalers", "Autoscaler"},
		{"ev", "Event"},
		{"event", "Event"},
		{"vol", "Volume"},
		{"volumes", "Volume"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := LookupKind(tc.name)
			if err != nil {
				t.Fatalf("LookupKind(%q): %v", tc.name, err)
			}
			if k.Kind != tc.want {
				t.Errorf("LookupKind(%q) = %s, want %s", tc.name, k.Kind, tc.want)
			}
		})
	}
}

// TestLookupKindEveryAlias: every name of every kind resolves to that kind,
// so a new short name cannot silently shadow another kind's.
func TestLookupKindEveryAlias(t *testing.T) {
	for _, k := range Kinds {
		names := append([]string{k.Kind, k.Plural, strings.TrimSuffix(k.Plural, "s"), strings.ToUpper(k.Plural)}, k.ShortNames...)
		for _, n := range names {
			got, err := LookupKind(n)
			if err != nil || got.Kind != k.Kind {
				t.Errorf("LookupKind(%q) = %v, %v; want %s", n, got, err, k.Kind)
			}
		}
	}
}

func TestLookupKindUnknown(t *testing.T) {
	for _, name := range []string{"", "deploymentz", "ingress", "pod/web", " pods"} {
		t.Run(name, func(t *testing.T) {
			k, err := LookupKind(name)
			if err == nil {
				t.Fatalf("LookupKind(%q) = %s, want an error", name, k.Kind)
			}
			msg := err.Error()
			if !strings.Contains(msg, "unknown kind") || !strings.Contains(msg, `"`+name+`"`) {
				t.Errorf("error %q does not name the unknown kind %q", msg, name)
			}
			// The message lists every kind by plural, sorted, so a user can pick one.
			const want = "known: autoscalers, configmaps, deployments, endpoints, events, machines, namespaces, " +
				"nodepools, nodes, pods, replicasets, secrets, services, volumes"
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not list the known kinds (%s)", msg, want)
			}
		})
	}
}

func TestMustKind(t *testing.T) {
	if got := MustKind("svc").Kind; got != "Service" {
		t.Errorf("MustKind(svc) = %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustKind of an unknown kind did not panic")
		}
	}()
	MustKind("widgets")
}

func TestKindOf(t *testing.T) {
	objs := map[string]Object{
		"Namespace": &Namespace{}, "Node": &Node{}, "NodePool": &NodePool{}, "Machine": &Machine{},
		"Pod": &Pod{}, "ReplicaSet": &ReplicaSet{}, "Deployment": &Deployment{}, "Service": &Service{},
		"Endpoints": &Endpoints{}, "ConfigMap": &ConfigMap{}, "Secret": &Secret{}, "Autoscaler": &Autoscaler{},
		"Event": &Event{}, "Volume": &PersistentVolume{},
	}
	if len(objs) != len(Kinds) {
		t.Fatalf("test covers %d kinds, registry has %d: add the new kind here", len(objs), len(Kinds))
	}
	for kind, obj := range objs {
		t.Run(kind, func(t *testing.T) {
			k := KindOf(obj)
			if k.Kind != kind {
				t.Fatalf("KindOf(%T) = %s", obj, k.Kind)
			}
			if k != MustKind(kind) {
				t.Errorf("KindOf and LookupKind return different infos for %s", kind)
			}
			if _, ok := k.New().(interface{ GetObjectMeta() *ObjectMeta }); !ok {
				t.Errorf("%s.New() is not an object", kind)
			}
			// The API server serves cluster-scoped objects at /<plural>/<name>.
			clusterScoped := kind == "Namespace" || kind == "Node" || kind == "NodePool" || kind == "Machine"
			if k.Namespaced == clusterScoped {
				t.Errorf("%s: Namespaced = %v", kind, k.Namespaced)
			}
		})
	}
}

type notAKind struct {
	TypeMeta
	ObjectMeta
}

func TestKindOfUnregisteredPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "not a registered kind") {
			t.Errorf("KindOf(unregistered) recovered %v, want a panic naming the problem", r)
		}
	}()
	KindOf(&notAKind{})
}
