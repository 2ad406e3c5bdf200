package resource

import (
	"encoding/json"
	"testing"
)

// FuzzParseQuantity checks the canonical-form promise for any input the
// parser accepts: parse -> String -> parse gives an equal value, String is a
// fixed point, and JSON encoding round-trips the same way.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{
		"0", "1", "-1", "1500m", "0.5", ".5", "5.", "1k", "1000", "1.5G", "1Ki",
		"1.5Gi", "0.0005Ki", "1e3", "1.5e9", "1e-3", "-0", "9223372036854775807m",
		"-9223372036854775.808", "8Pi", "0E", "12x", "1e999", " 1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		canon := q.String()
		q2, err := ParseQuantity(canon)
		if err != nil {
			t.Fatalf("ParseQuantity(%q) ok, but its String %q does not parse: %v", s, canon, err)
		}
		if !q2.Equal(q) {
			t.Fatalf("%q -> %q -> %dm, want %dm", s, canon, q2.MilliValue(), q.MilliValue())
		}
		if again := q2.String(); again != canon {
			t.Fatalf("String not a fixed point: %q -> %q -> %q", s, canon, again)
		}

		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("json.Marshal(%q): %v", s, err)
		}
		var q3 Quantity
		if err := json.Unmarshal(b, &q3); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if !q3.Equal(q) {
			t.Fatalf("JSON round trip of %q via %s gave %dm, want %dm", s, b, q3.MilliValue(), q.MilliValue())
		}
	})
}
