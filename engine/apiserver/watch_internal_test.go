package apiserver

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// writeEvent writes the shared encoding of an object into a watch line;
// the line must be exactly what json.Encoder writes, which clients parse.
func TestWriteEventMatchesTheJSONEncoder(t *testing.T) {
	objs := map[string]api.Object{
		"config map with HTML and unicode": &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "a", Namespace: "default",
			Labels: map[string]string{"app": "web"}}, Data: map[string]string{"page": "<b>&amp;</b> \u2028 é"}},
		"pod": &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default", ResourceVersion: 42},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i"}}}},
	}
	for name, obj := range objs {
		api.SetTypeMeta(obj)
		enc, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{api.WatchAdded, api.WatchModified, api.WatchDeleted, api.WatchBookmark} {
			var want, got bytes.Buffer
			if err := json.NewEncoder(&want).Encode(api.WatchEvent{Type: typ, Object: enc}); err != nil {
				t.Fatal(err)
			}
			if _, err := writeEvent(&got, []byte("leftover scratch"), typ, enc); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s, %s:\n got %s\nwant %s", name, typ, got.String(), want.String())
			}
		}
	}
}
