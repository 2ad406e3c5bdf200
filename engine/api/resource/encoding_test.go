package resource

import (
	"encoding/json"
	"strings"
	"testing"
)

type container struct {
	CPU    Quantity  `json:"cpu"`
	Memory *Quantity `json:"memory,omitempty"`
}

func TestMarshalJSON(t *testing.T) {
	mem := MustParse("1.5Gi")
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"value", MustParse("0.5"), `"500m"`},
		{"zero value", Quantity{}, `"0"`},
		{"negative", MustParse("-1k"), `"-1k"`},
		{"struct field and pointer", container{CPU: MustParse("2"), Memory: &mem}, `{"cpu":"2","memory":"1536Mi"}`},
		{"map value", map[string]Quantity{"cpu": MustParse("1000m")}, `{"cpu":"1"}`},
		// Map keys go through MarshalText.
		{"map key", map[Quantity]int{MustParse("1Ki"): 1}, `{"1Ki":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("json.Marshal = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		milli  int64
		format Format
	}{
		{"string", `"500m"`, 500, DecimalSI},
		{"binary string", `"1Gi"`, 1 << 30 * 1000, BinarySI},
		{"integer number", `2`, 2000, DecimalSI},
		{"fractional number", `0.5`, 500, DecimalSI},
		// Read from the literal, not via float64, so this stays exact.
		{"number float64 cannot hold", `0.1`, 100, DecimalSI},
		{"negative number", `-3`, -3000, DecimalSI},
		{"exponent number", `1e3`, 1_000_000, DecimalExponent},
		{"surrounding whitespace", " \"1k\"\n", 1_000_000, DecimalSI},
		{"escaped string", `"1\u004bi"`, 1024 * 1000, BinarySI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Quantity
			if err := json.Unmarshal([]byte(tt.in), &q); err != nil {
				t.Fatalf("json.Unmarshal(%s): %v", tt.in, err)
			}
			if q.MilliValue() != tt.milli || q.Format() != tt.format {
				t.Errorf("json.Unmarshal(%s) = %dm %s, want %dm %s", tt.in, q.MilliValue(), q.Format(), tt.milli, tt.format)
			}
		})
	}
}

func TestUnmarshalJSONNullKeepsValue(t *testing.T) {
	q := MustParse("3")
	if err := json.Unmarshal([]byte(`null`), &q); err != nil {
		t.Fatal(err)
	}
	if !q.Equal(MustParse("3")) {
		t.Errorf("null changed the value to %s", q)
	}
}

func TestUnmarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // substring of the error
	}{
		{"bad suffix", `"12x"`, `quantities: "12x": unknown suffix "x"`},
		{"empty string", `""`, `quantities: "": empty quantity`},
		{"spaces in string", `" 1"`, `leading or trailing whitespace`},
		{"too fine number", `0.0001`, `quantities: "0.0001": precision finer than 1m`},
		{"bool", `true`, `want a JSON string or number, got true`},
		{"object", `{"value":1}`, `want a JSON string or number, got {"value":1}`},
		{"array", `[1]`, `want a JSON string or number, got [1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c struct{ Q Quantity }
			err := json.Unmarshal([]byte(`{"Q":`+tt.in+`}`), &c)
			if err == nil {
				t.Fatalf("json.Unmarshal(%s) succeeded with %s", tt.in, c.Q)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestJSONRoundTripStruct(t *testing.T) {
	mem := MustParse("1024Mi")
	in := container{CPU: MustParse("1500m"), Memory: &mem}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out container
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.CPU.Equal(in.CPU) || out.Memory == nil || !out.Memory.Equal(*in.Memory) {
		t.Errorf("round trip through %s gave %+v", b, out)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"milli", "1500m", "1500m"},
		{"binary", "2048Ki", "2Mi"},
		{"exponent", "1e3", "1e3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Quantity
			if err := q.UnmarshalText([]byte(tt.in)); err != nil {
				t.Fatal(err)
			}
			b, err := q.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("MarshalText = %q, want %q", b, tt.want)
			}
		})
	}
}

func TestUnmarshalTextErrorLeavesValue(t *testing.T) {
	q := MustParse("7")
	if err := q.UnmarshalText([]byte("7x")); err == nil {
		t.Fatal("UnmarshalText(7x) succeeded")
	}
	if !q.Equal(MustParse("7")) {
		t.Errorf("failed UnmarshalText changed the value to %s", q)
	}
}
