package gcp

import (
	"strings"
	"testing"
)

// TestInstanceNameAndLabelValue: every machine name, cluster or key maps
// to a valid Compute Engine name and label value, stably, itself when it
// already is one, and two names never to one encoding.
func TestInstanceNameAndLabelValue(t *testing.T) {
	long := "pool-a." + strings.Repeat("x", 60) + ".node-1"
	for _, tc := range []struct{ in, name, label string }{
		{"web-1", "web-1", "web-1"},
		{"a.b", "a-b-" + shortHash("a.b"), "a-b-" + shortHash("a.b")},
		{"1st", "m-1st-" + shortHash("1st"), "1st"},
		{"Team_X", "", ""}, // "": only the rules below
		{long, "", ""},
	} {
		n, l := instanceName(tc.in), labelValue(tc.in)
		if !instanceNameRE.MatchString(n) {
			t.Errorf("instanceName(%q) = %q: not a Compute Engine name", tc.in, n)
		}
		if !labelValueRE.MatchString(l) {
			t.Errorf("labelValue(%q) = %q: not a Compute Engine label value", tc.in, l)
		}
		if tc.name != "" && n != tc.name {
			t.Errorf("instanceName(%q) = %q, want %q", tc.in, n, tc.name)
		}
		if tc.label != "" && l != tc.label {
			t.Errorf("labelValue(%q) = %q, want %q", tc.in, l, tc.label)
		}
		if instanceName(tc.in) != n || labelValue(tc.in) != l {
			t.Errorf("encodings of %q are not stable", tc.in)
		}
	}
	if instanceName("a.b") == instanceName("a-b") {
		t.Errorf("a.b and a-b share an instance name")
	}
}

func TestRequestID(t *testing.T) {
	uid := "0b7c6f0e-3c1a-4f43-9a55-0d6c1a5b9e21"
	if got := requestID(uid); got != uid {
		t.Errorf("requestID(uid) = %q, want the uid", got)
	}
	a, b := requestID("key-m1"), requestID("key-m1")
	if a != b || a == requestID("key-m2") || len(a) != 36 {
		t.Errorf("derived request IDs %q, %q: want one stable UUID per key", a, b)
	}
	if requestID(uid+"/zone-b") == uid {
		t.Errorf("a fallback zone's key got the first zone's request ID")
	}
}
