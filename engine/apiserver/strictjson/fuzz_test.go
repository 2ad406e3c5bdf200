package strictjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// FuzzUnmarshal: whatever strict decoding accepts, encoding/json accepts
// too and decodes the same; whatever encoding/json rejects, strict
// decoding rejects. It never panics.
func FuzzUnmarshal(f *testing.F) {
	dep, _ := json.Marshal(realisticDeployment())
	for _, seed := range []string{
		string(dep), `{}`, `{"metadata":{"labels":{"a":"1","a":"2"}}}`, `{"Metadata":{}}`, `{"spec":{"replicas":"3"}}`,
		`{"kind":"Deployment","kind":"Deployment"}`, `{"metadata":{"name":"a\u0062"}}`, `{"spec":{"template":{"spec":{"containers":[{"resources":{"limits":{"cpu":"lots"}}}]}}}}`,
		`[`, `{"a":1}x`, `null`, `{"metadata":null}`, `{"spec":{"selector":{"matchLabels":{"\u0061":"1","a":"2"}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict, plain api.Deployment
		strictErr := Unmarshal(data, &strict)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		plainErr := dec.Decode(&plain)
		if plainErr == nil && dec.More() {
			plainErr = errTrailing
		}
		if strictErr == nil && plainErr != nil {
			t.Fatalf("strict accepted what encoding/json rejects (%v): %q", plainErr, data)
		}
		if strictErr == nil && !reflect.DeepEqual(strict, plain) {
			t.Fatalf("strict and plain decodings differ for %q", data)
		}
	})
}

var errTrailing = jsonError("data after the value")

type jsonError string

func (e jsonError) Error() string { return string(e) }
