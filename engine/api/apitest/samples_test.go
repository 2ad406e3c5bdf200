package apitest

import (
	"reflect"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// TestEveryKindHasAValidSample: every kind the API serves has a sample,
// and each sample is valid after defaulting, so fuzz corpora seeded from
// them start from objects the server accepts.
func TestEveryKindHasAValidSample(t *testing.T) {
	for _, k := range api.Kinds {
		t.Run(k.Kind, func(t *testing.T) {
			obj, err := Sample(&k)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := reflect.TypeOf(obj), reflect.TypeOf(k.New()); got != want {
				t.Fatalf("sample is a %v, want %v", got, want)
			}
			api.Default(obj)
			if errs := api.Validate(obj); len(errs) > 0 {
				t.Fatalf("sample does not validate: %v", errs)
			}
			if _, err := SampleJSON(&k); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(samples) != len(api.Kinds) {
		t.Errorf("%d samples for %d kinds: remove samples of kinds the API no longer serves", len(samples), len(api.Kinds))
	}
}

// TestSamplesAreFresh: each call builds a new object, so a test that
// mutates its sample cannot change another's.
func TestSamplesAreFresh(t *testing.T) {
	k := api.MustKind("Pod")
	a, _ := Sample(k)
	b, _ := Sample(k)
	a.GetObjectMeta().Labels["app"] = "changed"
	if b.GetObjectMeta().Labels["app"] != "web" {
		t.Fatal("two samples share their labels map")
	}
}
