package resource

import (
	"math"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name string
		q    Quantity
		want string
	}{
		{"zero value", Quantity{}, "0"},
		{"zero binary", NewQuantity(0, BinarySI), "0"},
		{"zero exponent", NewQuantity(0, DecimalExponent), "0"},
		{"milli", NewMilliQuantity(1500, DecimalSI), "1500m"},
		{"whole from milli", NewMilliQuantity(2000, DecimalSI), "2"},
		{"kilo not mega", NewQuantity(1_500_000, DecimalSI), "1500k"},
		{"giga", NewQuantity(1e9, DecimalSI), "1G"},
		{"peta", NewQuantity(3e15, DecimalSI), "3P"},
		{"plain", NewQuantity(1234, DecimalSI), "1234"},
		{"negative milli", NewMilliQuantity(-250, DecimalSI), "-250m"},
		{"negative kilo", NewQuantity(-3000, DecimalSI), "-3k"},
		{"gibi", NewQuantity(1<<30, BinarySI), "1Gi"},
		{"mebi", NewQuantity(1536<<20, BinarySI), "1536Mi"},
		{"kibi", NewQuantity(6*1024, BinarySI), "6Ki"},
		{"tebi", NewQuantity(1<<40, BinarySI), "1Ti"},
		{"pebi", NewQuantity(8<<50, BinarySI), "8Pi"},
		{"negative gibi", NewQuantity(-(1 << 30), BinarySI), "-1Gi"},
		{"binary not multiple of 1024", NewQuantity(1025, BinarySI), "1025"},
		{"binary small", NewQuantity(5, BinarySI), "5"},
		// See the package doc: "1000" would reparse as DecimalSI "1k".
		{"binary multiple of 1000", NewQuantity(1000, BinarySI), "1k"},
		{"binary fractional", NewMilliQuantity(500, BinarySI), "500m"},
		{"binary fractional above 1Ki", NewMilliQuantity(1024*1000+1, BinarySI), "1024001m"},
		{"exponent kilo", NewQuantity(1000, DecimalExponent), "1e3"},
		{"exponent multiple of 3", NewQuantity(1.5e9, DecimalExponent), "1500e6"},
		{"exponent milli", NewMilliQuantity(80, DecimalExponent), "80e-3"},
		{"exponent unit", NewQuantity(5, DecimalExponent), "5"},
		{"exponent negative", NewQuantity(-300e6, DecimalExponent), "-300e6"},
		{"max", NewMilliQuantity(math.MaxInt64, DecimalSI), "9223372036854775807m"},
		{"min", NewMilliQuantity(math.MinInt64, DecimalSI), "-9223372036854775808m"},
		{"min binary", NewMilliQuantity(math.MinInt64, BinarySI), "-9223372036854775808m"},
		{"min exponent", NewMilliQuantity(math.MinInt64, DecimalExponent), "-9223372036854775808e-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCanonicalRoundTrip checks the promise in the package doc on inputs a
// user would write: parse, print, parse again gives an equal value, and
// printing is a fixed point.
func TestCanonicalRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"millicores", "1500m", "1500m"},
		{"millicores that are whole", "1000m", "1"},
		{"fraction", "0.5", "500m"},
		{"plain bytes", "1073741824", "1073741824"},
		{"decimal thousand", "1000", "1k"},
		{"decimal million", "1500000", "1500k"},
		{"binary", "1Gi", "1Gi"},
		{"binary in smaller unit", "1024Mi", "1Gi"},
		{"binary fractional", "1.5Gi", "1536Mi"},
		{"binary below 1Ki", "0.5Ki", "512"},
		{"binary sub-unit", "0.0005Ki", "512m"},
		{"binary 1000Ki", "1000Ki", "1000Ki"},
		{"exponent", "1e3", "1e3"},
		{"exponent fractional mantissa", "1.5e9", "1500e6"},
		{"exponent unnormalised", "12e4", "120e3"},
		{"exponent small", "5e0", "5"},
		{"exponent negative", "-1e-3", "-1e-3"},
		{"negative zero", "-0", "0"},
		{"zero binary", "0Gi", "0"},
		{"exa fraction", "0.001E", "1P"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := MustParse(tt.in)
			s := q.String()
			if s != tt.want {
				t.Errorf("MustParse(%q).String() = %q, want %q", tt.in, s, tt.want)
			}
			q2, err := ParseQuantity(s)
			if err != nil {
				t.Fatalf("reparse %q: %v", s, err)
			}
			if !q2.Equal(q) {
				t.Errorf("reparse %q = %dm, want %dm", s, q2.MilliValue(), q.MilliValue())
			}
			if s2 := q2.String(); s2 != s {
				t.Errorf("String not a fixed point: %q -> %q", s, s2)
			}
		})
	}
}
