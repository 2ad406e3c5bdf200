package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

// The fixtures below are valid objects of every kind. Validation tests start
// from one, break one thing, and assert the exact set of errors, so a change
// to the field paths users see fails a test.

func basePodSpec() PodSpec {
	return PodSpec{Containers: []Container{{
		Name:  "app",
		Image: "nginx:1.27",
		Ports: []ContainerPort{{Name: "http", ContainerPort: 8080}},
	}}}
}

func basePod() *Pod {
	return &Pod{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       basePodSpec(),
	}
}

func baseTemplate() PodTemplateSpec {
	return PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: basePodSpec()}
}

func baseDeployment() *Deployment {
	return &Deployment{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: DeploymentSpec{
			Replicas: Ptr[int32](3),
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: baseTemplate(),
		},
	}
}

func baseReplicaSet() *ReplicaSet {
	return &ReplicaSet{
		ObjectMeta: ObjectMeta{Name: "web-5d4f8", Namespace: "default"},
		Spec: ReplicaSetSpec{
			Replicas: Ptr[int32](2),
			Selector: &LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: baseTemplate(),
		},
	}
}

func baseService() *Service {
	return &Service{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []ServicePort{{Name: "http", Port: 80, TargetPort: FromString("http")}},
		},
	}
}

func baseConfigMap() *ConfigMap {
	return &ConfigMap{
		ObjectMeta: ObjectMeta{Name: "web-config", Namespace: "default"},
		Data:       map[string]string{"app.conf": "listen 8080"},
	}
}

func baseSecret() *Secret {
	return &Secret{
		ObjectMeta: ObjectMeta{Name: "web-secret", Namespace: "default"},
		Data:       map[string][]byte{"password": []byte("hunter2")},
	}
}

func baseAutoscaler() *Autoscaler {
	return &Autoscaler{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: AutoscalerSpec{
			ScaleTargetRef: ScaleTargetRef{Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
	}
}

func baseNodePool() *NodePool {
	return &NodePool{
		ObjectMeta: ObjectMeta{Name: "pool-a"},
		Spec:       NodePoolSpec{Provider: ProviderLocal, MinSize: 1, MaxSize: 3},
	}
}

func baseMachine() *Machine {
	return &Machine{
		ObjectMeta: ObjectMeta{Name: "pool-a-x7k2p"},
		Spec:       MachineSpec{Pool: "pool-a", Provider: ProviderLocal},
	}
}

func baseNode() *Node {
	return &Node{
		ObjectMeta: ObjectMeta{Name: "node-1.example.com", Labels: map[string]string{LabelZone: "zone-a"}},
		Spec:       NodeSpec{Taints: []Taint{{Key: "dedicated", Value: "gpu", Effect: TaintNoSchedule}}},
	}
}

func baseEvent() *Event {
	return &Event{
		ObjectMeta:     ObjectMeta{Name: "web.17a2b3c4d5e6f", Namespace: "default"},
		InvolvedObject: ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"},
		Reason:         "Scheduled",
		Message:        "assigned default/web to node-1",
	}
}

func baseVolume() *PersistentVolume {
	return &PersistentVolume{ObjectMeta: ObjectMeta{Name: "data", Namespace: "default"}}
}

func baseNamespace() *Namespace {
	return &Namespace{ObjectMeta: ObjectMeta{Name: "team-a"}}
}

func baseEndpoints() *Endpoints {
	return &Endpoints{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []EndpointSubset{{
			Addresses: []EndpointAddress{{IP: "10.1.0.4", NodeName: "node-1"}},
			Ports:     []EndpointPort{{Name: "http", Port: 8080}},
		}},
	}
}

// defaulted defaults obj, then applies mut: validation cases break an
// object the way a client could after (or despite) defaulting.
func defaulted[T Object](obj T, mut func(T)) T {
	Default(obj)
	if mut != nil {
		mut(obj)
	}
	return obj
}

// fullProbe is a probe with every threshold set, so a case can add it
// after defaulting and break only the part it is about.
func fullProbe(h ProbeHandler) *Probe {
	return &Probe{ProbeHandler: h, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
}

func httpGet(port IntOrString) ProbeHandler {
	return ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: port, Scheme: "HTTP"}}
}

func qty(s string) resource.Quantity { return resource.MustParse(s) }

// short names of error types keep the expectation tables readable.
var errTypeNames = map[ErrorType]string{
	ErrRequired:     "required",
	ErrInvalid:      "invalid",
	ErrNotSupported: "unsupported",
	ErrDuplicate:    "duplicate",
	ErrForbidden:    "forbidden",
	ErrTooLong:      "toolong",
}

// describeErrors renders errors as sorted "type path" strings.
func describeErrors(errs ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		name, ok := errTypeNames[e.Type]
		if !ok {
			name = string(e.Type)
		}
		out = append(out, name+" "+e.Field)
	}
	slices.Sort(out)
	return out
}

// assertErrors fails unless errs are exactly want ("type path" strings,
// in any order).
func assertErrors(t *testing.T, errs ErrorList, want []string) {
	t.Helper()
	got := describeErrors(errs)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got  %s\n want %s\nmessages: %v", fmtList(got), fmtList(want), errs)
	}
}

func fmtList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("[%s]", strings.Join(l, "; "))
}

// invalidCase is one broken object and the errors it must produce.
type invalidCase struct {
	name string
	obj  Object
	want []string
}

func runInvalidCases(t *testing.T, cases []invalidCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		if len(tc.want) == 0 {
			t.Fatalf("case %q expects no error; put it in a valid table", tc.name)
		}
		t.Run(tc.name, func(t *testing.T) {
			assertErrors(t, Validate(tc.obj), tc.want)
		})
	}
}
