package api

import (
	"encoding/json"
	"testing"
)

func TestIntOrStringJSON(t *testing.T) {
	cases := []struct {
		name string
		v    IntOrString
		json string
	}{
		{"number", FromInt(8080), `8080`},
		{"zero", FromInt(0), `0`},
		{"negative", FromInt(-1), `-1`},
		{"port name", FromString("http"), `"http"`},
		{"percentage", FromString("25%"), `"25%"`},
		{"digits as a string stay a string", FromString("80"), `"80"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil || string(b) != tc.json {
				t.Fatalf("Marshal(%+v) = %s, %v; want %s", tc.v, b, err, tc.json)
			}
			var back IntOrString
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back != tc.v {
				t.Errorf("round trip of %s = %+v, want %+v", tc.json, back, tc.v)
			}
		})
	}
}

func TestIntOrStringUnmarshalReplacesPrevious(t *testing.T) {
	v := FromString("http")
	if err := json.Unmarshal([]byte(`80`), &v); err != nil || v != FromInt(80) {
		t.Errorf("string then number = %+v, %v; want 80", v, err)
	}
	v = FromInt(80)
	if err := json.Unmarshal([]byte(`"http"`), &v); err != nil || v != FromString("http") {
		t.Errorf("number then string = %+v, %v; want http", v, err)
	}
}

func TestIntOrStringUnmarshalErrors(t *testing.T) {
	for _, in := range []string{`true`, `1.5`, `{}`, `[80]`, `99999999999`} {
		var v IntOrString
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", in, v)
		}
	}
}

// TestIntOrStringInObjects: a service port's targetPort is omitted when
// unset and keeps its type when set.
func TestIntOrStringInObjects(t *testing.T) {
	b, err := json.Marshal(ServicePort{Port: 80})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"port":80}` {
		t.Errorf("unset targetPort marshals as %s", b)
	}
	var p ServicePort
	if err := json.Unmarshal([]byte(`{"port":80,"targetPort":"http"}`), &p); err != nil || p.TargetPort != FromString("http") {
		t.Errorf("targetPort = %+v, %v", p.TargetPort, err)
	}
}

func TestIntOrStringIsZeroAndString(t *testing.T) {
	cases := []struct {
		v    IntOrString
		zero bool
		str  string
	}{
		{IntOrString{}, true, "0"},
		{FromInt(0), true, "0"},
		{FromString(""), true, ""},
		{FromInt(3), false, "3"},
		{FromString("0"), false, "0"},
		{FromString("50%"), false, "50%"},
	}
	for _, tc := range cases {
		if tc.v.IsZero() != tc.zero || tc.v.String() != tc.str {
			t.Errorf("%+v: IsZero %v String %q; want %v %q", tc.v, tc.v.IsZero(), tc.v.String(), tc.zero, tc.str)
		}
	}
}

// TestScaledValue: percentages resolve against the replica count; maxSurge
// rounds up (never block a rollout at 0 surge) and maxUnavailable rounds
// down (never take more pods down than asked).
func TestScaledValue(t *testing.T) {
	cases := []struct {
		name     string
		v        IntOrString
		total    int
		up, down int
	}{
		{"25% of 10", FromString("25%"), 10, 3, 2},
		{"25% of 4 is exact", FromString("25%"), 4, 1, 1},
		{"25% of 1", FromString("25%"), 1, 1, 0},
		{"33% of 10", FromString("33%"), 10, 4, 3},
		{"0% of 10", FromString("0%"), 10, 0, 0},
		{"100% of 7", FromString("100%"), 7, 7, 7},
		{"150% of 2", FromString("150%"), 2, 3, 3},
		{"10% of 0 replicas", FromString("10%"), 0, 0, 0},
		{"absolute number ignores total", FromInt(5), 100, 5, 5},
		{"absolute zero", FromInt(0), 10, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up, err := tc.v.ScaledValue(tc.total, true)
			if err != nil || up != tc.up {
				t.Errorf("round up = %d, %v; want %d", up, err, tc.up)
			}
			down, err := tc.v.ScaledValue(tc.total, false)
			if err != nil || down != tc.down {
				t.Errorf("round down = %d, %v; want %d", down, err, tc.down)
			}
		})
	}
}

func TestScaledValueErrors(t *testing.T) {
	for _, s := range []string{"lots", "5", "%", "x%", "2.5%", "25 %", ""} {
		if n, err := FromString(s).ScaledValue(10, true); err == nil {
			t.Errorf("ScaledValue(%q) = %d, want an error", s, n)
		}
	}
}
