package client

import (
	"encoding/json"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestDecodeWatchLine(t *testing.T) {
	for _, tc := range []struct {
		name, line, typ, obj string
		err                  bool
	}{
		{"server format", `{"type":"ADDED","object":{"a":1}}`, "ADDED", `{"a":1}`, false},
		{"nested braces", `{"type":"MODIFIED","object":{"a":{"b":"}"}}}`, "MODIFIED", `{"a":{"b":"}"}}`, false},
		{"other field order", `{"object":{"a":1},"type":"DELETED"}`, "DELETED", `{"a":1}`, false},
		{"spaces", `{ "type": "ADDED", "object": {"a": 1} }`, "ADDED", `{"a": 1}`, false},
		{"garbage", `{"type":"ADDED","object":`, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := decodeWatchLine([]byte(tc.line))
			if tc.err {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", ev)
				}
				return
			}
			if err != nil || ev.Type != tc.typ || string(ev.Object) != tc.obj {
				t.Fatalf("got %q %q %v, want %q %q", ev.Type, ev.Object, err, tc.typ, tc.obj)
			}
		})
	}
	// Whatever the server encodes round-trips through the fast path.
	obj, _ := json.Marshal(&api.Pod{ObjectMeta: api.ObjectMeta{Name: `we"ird}`}})
	line, _ := json.Marshal(api.WatchEvent{Type: api.WatchAdded, Object: obj})
	ev, err := decodeWatchLine(line)
	if err != nil || string(ev.Object) != string(obj) {
		t.Fatalf("round trip: %q %v", ev.Object, err)
	}
}
