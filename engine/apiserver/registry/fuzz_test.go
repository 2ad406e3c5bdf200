package registry

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/apitest"
	"github.com/maestro-dev/maestro/engine/apiserver/strictjson"
	"github.com/maestro-dev/maestro/engine/store"
)

var fuzzNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// FuzzDecodeValidate feeds any body for any kind through what a create
// runs: the API's strict decoder, then prepareNew (server-owned metadata,
// defaults, the kind's create rules, validation). It never panics, and an
// object it accepts survives the round trips users rely on:
//   - stored and read back (encode, decode), it encodes to the same bytes
//     and is still valid;
//   - sent back as a client would (GET then PUT of what the server
//     returned), the strict decoder accepts it, the update rules accept
//     it, and the update changes nothing (the registry then writes no new
//     revision and no watch event).
func FuzzDecodeValidate(f *testing.F) {
	for i := range api.Kinds {
		b, err := apitest.SampleJSON(&api.Kinds[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	pod := kindIndex(f, "Pod")
	for _, s := range []string{
		`{}`, `null`, `{"metadata":{"generateName":"web-"},"spec":{"containers":[{"name":"a","image":"x"}]}}`,
		`{"metadata":{"name":"a","labels":{"bad key!":"x"}},"spec":{"containers":[{"name":"a","image":"x"}]}}`,
		`{"metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"x","resources":{"limits":{"cpu":"lots"}}}]}}`,
		`{"metadata":{"name":"a","name":"b"},"spec":{"containers":[]}}`,
	} {
		f.Add(pod, []byte(s))
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		checkCreateRoundTrip(t, &api.Kinds[int(k)%len(api.Kinds)], data)
	})
}

// TestSamplesSurviveCreateRoundTrip keeps FuzzDecodeValidate honest: the
// seed of every kind is accepted, so the round trips are checked for
// every kind, not only decoding errors.
func TestSamplesSurviveCreateRoundTrip(t *testing.T) {
	for i := range api.Kinds {
		kind := &api.Kinds[i]
		t.Run(kind.Kind, func(t *testing.T) {
			b, err := apitest.SampleJSON(kind)
			if err != nil {
				t.Fatal(err)
			}
			if !checkCreateRoundTrip(t, kind, b) {
				t.Fatalf("the %s sample is refused", kind.Kind)
			}
		})
	}
}

// checkCreateRoundTrip runs data through a create of kind and, when it
// is accepted, checks the round trips; it reports whether it was accepted.
func checkCreateRoundTrip(t *testing.T, kind *api.KindInfo, data []byte) bool {
	t.Helper()
	obj := kind.New()
	if err := strictjson.Unmarshal(data, obj); err != nil {
		return false
	}
	if _, errs := prepareNew(obj, fuzzNow); len(errs) > 0 {
		for _, e := range errs {
			if e.Field == "" {
				t.Fatalf("%s: an error names no field: %v", kind.Kind, e)
			}
		}
		return false
	}
	stored := mustEncode(t, obj)
	current, err := decode(kind, store.KV{Key: "/k", Value: stored, ModRevision: 7})
	if err != nil {
		t.Fatalf("%s: the stored encoding does not decode: %v\n%s", kind.Kind, err, stored)
	}
	if again := mustEncode(t, current); !bytes.Equal(again, stored) {
		t.Fatalf("%s: stored and read back, it encodes differently:\n%s\n%s", kind.Kind, stored, again)
	}
	if errs := api.Validate(current); len(errs) > 0 {
		t.Fatalf("%s: valid when created, invalid when read back: %v\n%s", kind.Kind, errs, stored)
	}
	assertNoopUpdate(t, kind, current, stored)
	return true
}

// assertNoopUpdate sends current back the way a client does (its JSON
// through the strict decoder) and checks the update path accepts it and
// would store the same bytes.
func assertNoopUpdate(t *testing.T, kind *api.KindInfo, current api.Object, stored []byte) {
	t.Helper()
	wire, err := json.Marshal(current)
	if err != nil {
		t.Fatalf("%s: encoding the response: %v", kind.Kind, err)
	}
	req := kind.New()
	if err := strictjson.Unmarshal(wire, req); err != nil {
		t.Fatalf("%s: the strict decoder refuses what the server returned: %v\n%s", kind.Kind, err, wire)
	}
	next, err := (*Registry)(nil).merge(kind, current, stored, req, "")
	if err != nil {
		t.Fatalf("%s: merge: %v", kind.Kind, err)
	}
	if errs := prepareWrite(current, next, fuzzNow.Add(time.Minute)); len(errs) > 0 {
		t.Fatalf("%s: an unchanged update is refused: %v\n%s", kind.Kind, errs, wire)
	}
	if !api.DesiredStateEqual(current, next) {
		t.Fatalf("%s: an unchanged update changes the desired state\n%s", kind.Kind, wire)
	}
	if got := mustEncode(t, next); !bytes.Equal(got, stored) {
		t.Fatalf("%s: an unchanged update would store different bytes:\n%s\n%s", kind.Kind, stored, got)
	}
}

func mustEncode(t *testing.T, obj api.Object) []byte {
	t.Helper()
	b, err := encode(obj)
	if err != nil {
		t.Fatalf("encoding an accepted object: %v", err)
	}
	return b
}

func kindIndex(f *testing.F, name string) uint8 {
	for i, k := range api.Kinds {
		if k.Kind == name {
			return uint8(i)
		}
	}
	f.Fatalf("no kind %s", name)
	return 0
}

// FuzzParseFieldSelector: a field selector the parser accepts prints
// (String) as text that parses to the same selector, and matching any
// kind's sample never panics and agrees between the two.
func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range []string{
		"", " ", "spec.nodeName=node-1", "spec.nodeName==node-1", "spec.nodeName!=node-1", "spec.nodeName=",
		"spec.nodeName=node-1,status.phase!=Succeeded,metadata.namespace=default", "spec.nodeName", "nope=1",
		"spec.nodeName=a,", ",", "metadata.name===x", "metadata.name= =x", "type=Warning,reason!=Pulled",
		" metadata.name = web ", "status.nodeName=node-1", "spec.unschedulable=true", "spec.pool=pool-a",
	} {
		for i := range api.Kinds {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, s string) {
		kind := &api.Kinds[int(k)%len(api.Kinds)]
		sel, err := ParseFieldSelector(kind, s)
		if err != nil {
			if !strings.Contains(err.Error(), "field selector") {
				t.Fatalf("error does not say what it is about: %v", err)
			}
			return
		}
		canon := sel.String()
		sel2, err := ParseFieldSelector(kind, canon)
		if err != nil {
			t.Fatalf("ParseFieldSelector(%q) ok, but its String %q does not parse: %v", s, canon, err)
		}
		if len(sel) != len(sel2) || (len(sel) > 0 && !equalRequirements(sel, sel2)) {
			t.Fatalf("%q -> %q -> different selectors:\n%#v\n%#v", s, canon, sel, sel2)
		}
		if again := sel2.String(); again != canon {
			t.Fatalf("String not a fixed point: %q -> %q -> %q", s, canon, again)
		}
		obj, err := apitest.Sample(kind)
		if err != nil {
			t.Fatal(err)
		}
		if sel.Matches(obj) != sel2.Matches(obj) {
			t.Fatalf("%q and %q disagree on the %s sample", s, canon, kind.Kind)
		}
	})
}

func equalRequirements(a, b FieldSelector) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
