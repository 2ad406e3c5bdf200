package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

func TestUnmarshalAcceptsWhatEncodingJSONDoes(t *testing.T) {
	d := realisticDeployment()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var strict, plain api.Deployment
	if err := Unmarshal(b, &strict); err != nil {
		t.Fatalf("strict decode of a marshalled deployment: %v", err)
	}
	if err := json.Unmarshal(b, &plain); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(strict, plain) {
		t.Errorf("strict and plain decoding differ:\n strict %+v\n plain  %+v", strict, plain)
	}
	for _, doc := range []string{
		`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","labels":{}},"spec":{"containers":[]}}`,
		` {"metadata":null} `,
		`{"metadata":{"name":"a\"b","labels":{"a":"1","b":"2","\u0063":"3"}}}`,
		`{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":2,"memory":"1Gi"}}}]}}`,
	} {
		var p api.Pod
		if err := Unmarshal([]byte(doc), &p); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestUnmarshalNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		into  func() any
		doc   string
		field string
		typ   api.ErrorType
		msg   string
	}{
		{"duplicate top-level field", newPod, `{"kind":"Pod","kind":"Pod"}`, "kind", api.ErrDuplicate, `duplicate key "kind"`},
		{"duplicate map key", newPod, `{"metadata":{"labels":{"app":"a","b":"b","app":"c"}}}`, `metadata.labels["app"]`, api.ErrDuplicate, `duplicate key "app"`},
		{"duplicate escaped map key", newPod, `{"metadata":{"labels":{"app":"a","\u0061pp":"c"}}}`, `metadata.labels["app"]`, api.ErrDuplicate, `duplicate key "app"`},
		{"duplicate key in a big map", newPod, bigLabels(40, "l7"), `metadata.labels["l7"]`, api.ErrDuplicate, `duplicate key "l7"`},
		{"duplicate in a list element", newPod, `{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","image":"y"}]}}`,
			"spec.containers[1].image", api.ErrDuplicate, `duplicate key "image"`},
		{"duplicate inside an ignored value", newPod, `{"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":{"a":1,"a":2}}}}]}}`,
			`spec.containers[0].resources.limits["cpu"]`, api.ErrTypeInvalid, "quantities"},
		{"duplicate in a struct of many fields", newWide, `{"F3":1,"F69":2,"F3":4}`, "F3", api.ErrDuplicate, `duplicate key "F3"`},
		{"unknown field", newPod, `{"spec":{"containers":[{"name":"a","imagee":"x"}]}}`, "spec.containers[0].imagee", api.ErrUnknown, `unknown field "imagee"`},
		{"field in the wrong case", newPod, `{"Metadata":{"name":"p"}}`, "Metadata", api.ErrUnknown, `did you mean "metadata"?`},
		{"quantity", newPod, `{"spec":{"containers":[{"name":"a","resources":{"requests":{"memory":"lots"}}}]}}`,
			`spec.containers[0].resources.requests["memory"]`, api.ErrTypeInvalid, `"lots": expected a number`},
		{"base64", newSecret, `{"data":{"ok":"aGk=","password":"hunter2 !"}}`, `data["password"]`, api.ErrTypeInvalid, "must be base64-encoded"},
		{"string for a number", newDeployment, `{"spec":{"replicas":"3"}}`, "spec.replicas", api.ErrTypeInvalid, "must be an integer (32 bits), not a string"},
		{"number out of range", newDeployment, `{"spec":{"replicas":3000000000}}`, "spec.replicas", api.ErrTypeInvalid, "3000000000 is out of range"},
		{"array for an object", newPod, `{"metadata":[]}`, "metadata", api.ErrTypeInvalid, "must be an object, not an array"},
		{"object for a string", newPod, `{"metadata":{"name":{"a":1}}}`, "metadata.name", api.ErrTypeInvalid, "must be a string, not an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Unmarshal([]byte(tc.doc), tc.into())
			var errs api.ErrorList
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("got %v (%T), want one field error at %s", err, err, tc.field)
			}
			if e := errs[0]; e.Field != tc.field || e.Type != tc.typ || !strings.Contains(e.Detail, tc.msg) {
				t.Errorf("got %s %s %q, want %s %s containing %q", e.Field, e.Type, e.Detail, tc.field, tc.typ, tc.msg)
			}
		})
	}
}

func TestUnmarshalListsEveryValueError(t *testing.T) {
	doc := `{"spec":{"replicas":"3","minReadySeconds":true,"template":{"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"x"}}}]}}}}`
	err := Unmarshal([]byte(doc), newDeployment())
	var errs api.ErrorList
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want field errors", err)
	}
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	want := []string{"spec.minReadySeconds", "spec.replicas", `spec.template.spec.containers[0].resources.limits["cpu"]`}
	if slices.Sort(fields); !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
}

func TestUnmarshalSyntaxErrors(t *testing.T) {
	for _, doc := range []string{``, `{`, `{"metadata":`, `{"metadata":{"name":"p"}`, `{"a" 1}`, `{"kind":"Pod",}`, `[1,]`, `nul`, `{"kind":"Pod"} x`,
		`{"kind":"Pod"}{"kind":"Pod"}`, strings.Repeat("[", maxDepth+5)} {
		err := Unmarshal([]byte(doc), newPod())
		if err == nil {
			t.Errorf("%.40q: no error", doc)
			continue
		}
		var errs api.ErrorList
		if errors.As(err, &errs) && !strings.Contains(doc, "[[[") {
			t.Errorf("%.40q: got field errors %v, want a syntax error", doc, errs)
		}
	}
}

// TestUnmarshalQuotedField: a `json:",string"` field is decoded by its
// struct, so an error elsewhere does not blame it.
func TestUnmarshalQuotedField(t *testing.T) {
	var v struct {
		N int64 `json:"n,string"`
		B bool  `json:"b"`
	}
	if err := Unmarshal([]byte(`{"n":"42"}`), &v); err != nil || v.N != 42 {
		t.Fatalf("quoted number: %v, %d", err, v.N)
	}
	err := Unmarshal([]byte(`{"n":"42","b":"yes"}`), &v)
	var errs api.ErrorList
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Field != "b" {
		t.Fatalf("got %v, want one error at b", err)
	}
}

func TestUnmarshalNeedsAPointer(t *testing.T) {
	if err := Unmarshal([]byte(`{}`), api.Pod{}); err == nil {
		t.Error("a non-pointer was accepted")
	}
}

func newPod() any        { return &api.Pod{} }
func newSecret() any     { return &api.Secret{} }
func newDeployment() any { return &api.Deployment{} }

// newWide is a struct of 70 fields, more than the scanner's bitmap holds.
func newWide() any {
	fields := make([]reflect.StructField, 70)
	for i := range fields {
		fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeFor[int]()}
	}
	return reflect.New(reflect.StructOf(fields)).Interface()
}

func bigLabels(n int, dup string) string {
	var b strings.Builder
	b.WriteString(`{"metadata":{"labels":{`)
	for i := range n {
		fmt.Fprintf(&b, `"l%d":"v",`, i)
	}
	b.WriteString(`"` + dup + `":"again"}}}`)
	return b.String()
}

func realisticDeployment() *api.Deployment {
	labels := map[string]string{"app": "checkout", "tier": "web"}
	q := resource.MustParse
	return &api.Deployment{
		TypeMeta:   api.TypeMeta{Kind: "Deployment", APIVersion: api.APIVersion},
		ObjectMeta: api.ObjectMeta{Name: "checkout", Namespace: "shop", Labels: labels, Annotations: map[string]string{"team": "payments"}},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr[int32](3),
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: labels},
				Spec: api.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
					Containers: []api.Container{{
						Name: "app", Image: "registry.example.com/checkout:1.4.2", Args: []string{"--port=8080", "--log=json"},
						Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env:   []api.EnvVar{{Name: "MODE", Value: "prod"}, {Name: "DB", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.KeySelector{Name: "db", Key: "url"}}}},
						Resources: api.ResourceRequirements{
							Requests: api.ResourceList{api.ResourceCPU: q("250m"), api.ResourceMemory: q("256Mi")},
							Limits:   api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("512Mi")},
						},
						ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/ready", Port: api.FromString("http")}}},
					}},
					Tolerations: []api.Toleration{{Key: "dedicated", Operator: "Equal", Value: "web", Effect: api.TaintNoSchedule}},
				},
			},
		},
	}
}
