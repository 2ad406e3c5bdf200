package resource

import (
	"math"
	"testing"
)

func TestValue(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		value int64
		milli int64
	}{
		{"zero", "0", 0, 0},
		{"whole", "2", 2, 2000},
		{"rounds up", "1500m", 2, 1500},
		{"rounds up smallest fraction", "1m", 1, 1},
		{"negative rounds away from zero", "-1500m", -2, -1500},
		{"gibi", "1Gi", 1 << 30, 1 << 30 * 1000},
		{"max", "9223372036854775807m", 9223372036854776, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := MustParse(tt.in)
			if got := q.Value(); got != tt.value {
				t.Errorf("Value() = %d, want %d", got, tt.value)
			}
			if got := q.MilliValue(); got != tt.milli {
				t.Errorf("MilliValue() = %d, want %d", got, tt.milli)
			}
		})
	}
}

func TestCmpAndEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		cmp  int
	}{
		{"milli equals units", "1000m", "1", 0},
		{"exponent equals units", "1e3", "1k", 0},
		{"binary equals bytes", "1Gi", "1073741824", 0},
		{"binary units", "1Gi", "1024Mi", 0},
		{"fraction equals milli", "0.5", "500m", 0},
		{"zero spellings", "0Gi", "-0", 0},
		{"kibi above kilo", "1Ki", "1k", 1},
		{"less", "999m", "1", -1},
		{"negative less", "-1", "0", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := MustParse(tt.a), MustParse(tt.b)
			if got := a.Cmp(b); got != tt.cmp {
				t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.cmp)
			}
			if got := b.Cmp(a); got != -tt.cmp {
				t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.cmp)
			}
			if got := a.Equal(b); got != (tt.cmp == 0) {
				t.Errorf("Equal(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.cmp == 0)
			}
		})
	}
}

func TestSignAndIsZero(t *testing.T) {
	tests := []struct {
		name   string
		q      Quantity
		sign   int
		isZero bool
	}{
		{"zero value", Quantity{}, 0, true},
		{"positive", MustParse("1m"), 1, false},
		{"negative", MustParse("-1m"), -1, false},
		{"zero binary", MustParse("0Ki"), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Sign(); got != tt.sign {
				t.Errorf("Sign() = %d, want %d", got, tt.sign)
			}
			if got := tt.q.IsZero(); got != tt.isZero {
				t.Errorf("IsZero() = %v, want %v", got, tt.isZero)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		q    Quantity
		want Format
	}{
		{"zero value reports DecimalSI", Quantity{}, DecimalSI},
		{"constructor keeps format", NewQuantity(1, BinarySI), BinarySI},
		{"parsed milli", MustParse("5m"), DecimalSI},
		{"parsed binary", MustParse("5Mi"), BinarySI},
		{"parsed exponent", MustParse("5e6"), DecimalExponent},
		{"parsed exa is decimal, not exponent", MustParse("0E"), DecimalSI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Format(); got != tt.want {
				t.Errorf("Format() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNewQuantity(t *testing.T) {
	tests := []struct {
		name  string
		q     Quantity
		milli int64
	}{
		{"units", NewQuantity(3, DecimalSI), 3000},
		{"negative units", NewQuantity(-3, DecimalSI), -3000},
		{"milli", NewMilliQuantity(3, DecimalSI), 3},
		{"saturates high", NewQuantity(math.MaxInt64, DecimalSI), math.MaxInt64},
		{"saturates low", NewQuantity(math.MinInt64, DecimalSI), math.MinInt64},
		{"largest exact", NewQuantity(math.MaxInt64/1000, DecimalSI), math.MaxInt64 / 1000 * 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.MilliValue(); got != tt.milli {
				t.Errorf("MilliValue() = %d, want %d", got, tt.milli)
			}
		})
	}
}

func TestAddSub(t *testing.T) {
	tests := []struct {
		name       string
		q, o       Quantity
		sub        bool
		wantMilli  int64
		wantFormat Format
		wantString string
	}{
		{"add keeps receiver format", MustParse("1Gi"), MustParse("1M"), false, (1<<30 + 1e6) * 1000, BinarySI, "1074741824"},
		{"add into zero takes operand format", Quantity{}, MustParse("1Gi"), false, 1 << 30 * 1000, BinarySI, "1Gi"},
		{"add into parsed zero takes operand format", MustParse("0"), MustParse("512Mi"), false, 512 << 20 * 1000, BinarySI, "512Mi"},
		{"add millicores", MustParse("250m"), MustParse("750m"), false, 1000, DecimalSI, "1"},
		{"sub to negative", MustParse("1"), MustParse("1500m"), true, -500, DecimalSI, "-500m"},
		{"sub from zero takes operand format", Quantity{}, MustParse("1Ki"), true, -1024 * 1000, BinarySI, "-1Ki"},
		{"sub binary", MustParse("2Gi"), MustParse("512Mi"), true, 1536 << 20 * 1000, BinarySI, "1536Mi"},
		{"add saturates", NewMilliQuantity(math.MaxInt64, DecimalSI), MustParse("1m"), false, math.MaxInt64, DecimalSI, "9223372036854775807m"},
		{"add saturates low", NewMilliQuantity(math.MinInt64, DecimalSI), MustParse("-1m"), false, math.MinInt64, DecimalSI, "-9223372036854775808m"},
		{"sub saturates", NewMilliQuantity(math.MinInt64, DecimalSI), MustParse("1m"), true, math.MinInt64, DecimalSI, "-9223372036854775808m"},
		{"sub min from positive saturates", MustParse("1m"), NewMilliQuantity(math.MinInt64, DecimalSI), true, math.MaxInt64, DecimalSI, "9223372036854775807m"},
		{"sub min from negative is exact", MustParse("-1m"), NewMilliQuantity(math.MinInt64, DecimalSI), true, math.MaxInt64, DecimalSI, "9223372036854775807m"},
		{"sub min from min is zero", NewMilliQuantity(math.MinInt64, DecimalSI), NewMilliQuantity(math.MinInt64, DecimalSI), true, 0, DecimalSI, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if tt.sub {
				q.Sub(tt.o)
			} else {
				q.Add(tt.o)
			}
			if q.MilliValue() != tt.wantMilli || q.Format() != tt.wantFormat || q.String() != tt.wantString {
				t.Errorf("got %dm %s %q, want %dm %s %q", q.MilliValue(), q.Format(), q.String(), tt.wantMilli, tt.wantFormat, tt.wantString)
			}
		})
	}
}

func TestAsApproximateFloat64(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
	}{
		{"zero", "0", 0},
		{"milli", "1500m", 1.5},
		{"negative", "-250m", -0.25},
		{"gibi", "1Gi", 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MustParse(tt.in).AsApproximateFloat64(); got != tt.want {
				t.Errorf("AsApproximateFloat64() = %v, want %v", got, tt.want)
			}
		})
	}
}
