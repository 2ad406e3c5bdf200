package resource

import (
	"math"
	"strings"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		milli  int64
		format Format
	}{
		{"zero", "0", 0, DecimalSI},
		{"negative zero", "-0", 0, DecimalSI},
		{"integer", "2", 2000, DecimalSI},
		{"plus sign", "+2", 2000, DecimalSI},
		{"negative", "-2", -2000, DecimalSI},
		{"leading zeros", "007", 7000, DecimalSI},
		{"fraction", "1.5", 1500, DecimalSI},
		{"fraction to milli", "0.001", 1, DecimalSI},
		{"trailing zeros in fraction", "0.1000000000", 100, DecimalSI},
		{"leading dot", ".5", 500, DecimalSI},
		{"trailing dot", "5.", 5000, DecimalSI},
		{"milli", "1500m", 1500, DecimalSI},
		{"fractional milli that is whole", "1.0m", 1, DecimalSI},
		{"milli negative", "-250m", -250, DecimalSI},
		{"kilo", "1k", 1_000_000, DecimalSI},
		{"mega", "1M", 1_000_000_000, DecimalSI},
		{"giga", "1G", 1e12, DecimalSI},
		{"tera", "1T", 1e15, DecimalSI},
		{"peta", "1P", 1e18, DecimalSI},
		{"fraction of exa", "0.001E", 1e18, DecimalSI},
		{"zero exa", "0E", 0, DecimalSI},
		{"fractional giga", "1.5G", 1.5e12, DecimalSI},
		{"kibi", "1Ki", 1024 * 1000, BinarySI},
		{"mebi", "1Mi", 1 << 20 * 1000, BinarySI},
		{"gibi", "1Gi", 1 << 30 * 1000, BinarySI},
		{"tebi", "1Ti", 1 << 40 * 1000, BinarySI},
		{"pebi", "8Pi", 8 << 50 * 1000, BinarySI},
		{"fractional gibi", "1.5Gi", 1536 << 20 * 1000, BinarySI},
		// 0.0005 has sub-milli digits, but times 1024 it is exactly 512m.
		{"fine fraction made whole by binary suffix", "0.0005Ki", 512, BinarySI},
		{"exponent", "1e3", 1_000_000, DecimalExponent},
		{"capital exponent", "1E3", 1_000_000, DecimalExponent},
		{"fractional mantissa", "1.5e9", 1.5e12, DecimalExponent},
		{"positive exponent sign", "1e+3", 1_000_000, DecimalExponent},
		{"negative exponent", "1e-3", 1, DecimalExponent},
		{"exponent zero", "5e0", 5000, DecimalExponent},
		{"zero with huge exponent", "0e999999", 0, DecimalExponent},
		{"many zeros then huge negative exponent", "1" + strings.Repeat("0", 500) + "e-500", 1000, DecimalExponent},
		{"largest", "9223372036854775.807", math.MaxInt64, DecimalSI},
		{"smallest", "-9223372036854775.808", math.MinInt64, DecimalSI},
		{"largest in milli", "9223372036854775807m", math.MaxInt64, DecimalSI},
		{"8 PiB", "8Pi", 8 * (1 << 50) * 1000, BinarySI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuantity(tt.in)
			if err != nil {
				t.Fatalf("ParseQuantity(%q): %v", tt.in, err)
			}
			if q.MilliValue() != tt.milli || q.Format() != tt.format {
				t.Errorf("ParseQuantity(%q) = %dm %s, want %dm %s", tt.in, q.MilliValue(), q.Format(), tt.milli, tt.format)
			}
		})
	}
}

func TestParseQuantityErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the whole error message
	}{
		{"empty", "", `quantities: "": empty quantity`},
		{"leading space", " 1", `quantities: " 1": leading or trailing whitespace`},
		{"trailing space", "1 ", `quantities: "1 ": leading or trailing whitespace`},
		{"trailing newline", "1Gi\n", `quantities: "1Gi\n": leading or trailing whitespace`},
		{"inner space", "1 Gi", `quantities: "1 Gi": unknown suffix " Gi"`},
		{"unknown suffix", "12x", `quantities: "12x": unknown suffix "x"`},
		{"lowercase kibi", "1ki", `quantities: "1ki": unknown suffix "ki"`},
		{"capital K", "1K", `quantities: "1K": unknown suffix "K"`},
		{"bytes", "1GB", `quantities: "1GB": unknown suffix "GB"`},
		{"doubled suffix", "1GGi", `quantities: "1GGi": unknown suffix "GGi"`},
		{"two dots", "1.2.3", `quantities: "1.2.3": unknown suffix ".3"`},
		{"no number", "Gi", `quantities: "Gi": expected a number`},
		{"sign only", "-", `quantities: "-": expected a number`},
		{"dot only", ".", `quantities: ".": expected a number`},
		{"double sign", "+-1", `quantities: "+-1": expected a number`},
		{"letters", "abc", `quantities: "abc": expected a number`},
		{"micro", "5u", `quantities: "5u": suffix "u" is finer than 1m (maestro quantities are whole milli-units)`},
		{"nano", "5n", `quantities: "5n": suffix "n" is finer than 1m (maestro quantities are whole milli-units)`},
		{"finer than milli", "0.0001", `quantities: "0.0001": precision finer than 1m (maestro quantities are whole milli-units)`},
		{"fractional milli", "1.5m", `quantities: "1.5m": precision finer than 1m (maestro quantities are whole milli-units)`},
		{"tiny exponent", "1e-4", `quantities: "1e-4": precision finer than 1m (maestro quantities are whole milli-units)`},
		{"absurd negative exponent", "1e-999999", `quantities: "1e-999999": precision finer than 1m (maestro quantities are whole milli-units)`},
		{"fractional binary", "0.0001Ki", `quantities: "0.0001Ki": precision finer than 1m (maestro quantities are whole milli-units)`},
		{"exa", "10E", `quantities: "10E": value too large: its milli-value overflows int64 (maestro supports quantities up to about 8 PiB / 9.2e15 units)`},
		{"exbi", "1Ei", `quantities: "1Ei": value too large: its milli-value overflows int64 (maestro supports quantities up to about 8 PiB / 9.2e15 units)`},
		{"just past max", "9223372036854775.808", `quantities: "9223372036854775.808": value too large: its milli-value overflows int64 (maestro supports quantities up to about 8 PiB / 9.2e15 units)`},
		{"just past min", "-9223372036854775.809", `quantities: "-9223372036854775.809": value too large: its milli-value overflows int64 (maestro supports quantities up to about 8 PiB / 9.2e15 units)`},
		{"huge exponent", "1e999999", `quantities: "1e999999": value too large: its milli-value overflows int64 (maestro supports quantities up to about 8 PiB / 9.2e15 units)`},
		{"exponent out of int32", "1e99999999999", `quantities: "1e99999999999": exponent "e99999999999" out of range`},
		{"fractional exponent", "1e2.5", `quantities: "1e2.5": invalid exponent "e2.5": want e or E followed by an integer`},
		{"exponent without digits", "1e+", `quantities: "1e+": invalid exponent "e+": want e or E followed by an integer`},
		{"lone e", "1e", `quantities: "1e": unknown suffix "e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuantity(tt.in)
			if err == nil {
				t.Fatalf("ParseQuantity(%q) = %v, want error %q", tt.in, q, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseQuantity(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse(\"bogus\") did not panic")
		}
	}()
	MustParse("bogus")
}
