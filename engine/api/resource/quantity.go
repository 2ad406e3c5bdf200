package resource

import (
	"fmt"
	"math"
)

// Quantity is a fixed-point number with milli-unit precision and the format
// it should be printed in. The zero value is 0 in DecimalSI.
//
// Quantity is a small value type; copy it freely. Compare with Cmp or Equal,
// not ==, because == also compares the format ("1k" != "1e3" under ==).
type Quantity struct {
	milli  int64
	format Format
}

// Compile-time check; the encoding interfaces are checked in encoding.go.
var _ fmt.Stringer = Quantity{}

// NewQuantity returns value whole units in format f.
//
// Values beyond the representable range (about ±9.2e15 units) saturate at
// the nearest bound instead of wrapping around, so an oversized capacity
// stays "very large" rather than turning negative.
func NewQuantity(value int64, f Format) Quantity {
	return Quantity{milli: mulSat(value, 1000), format: f}
}

// NewMilliQuantity returns milli thousandths of a unit in format f.
func NewMilliQuantity(milli int64, f Format) Quantity {
	return Quantity{milli: milli, format: f}
}

// MilliValue returns the value in thousandths of a unit (millicores for cpu).
func (q Quantity) MilliValue() int64 { return q.milli }

// Value returns the value in whole units, rounded away from zero like
// Kubernetes does (1500m -> 2, -1500m -> -2): a fractional cpu request
// needs a whole core when only whole units are available.
func (q Quantity) Value() int64 {
	v, r := q.milli/1000, q.milli%1000
	switch {
	case r > 0:
		v++
	case r < 0:
		v--
	}
	return v
}

// Cmp returns -1, 0 or 1 as q is less than, equal to or greater than o.
// Formats are ignored.
func (q Quantity) Cmp(o Quantity) int {
	switch {
	case q.milli < o.milli:
		return -1
	case q.milli > o.milli:
		return 1
	}
	return 0
}

// Equal reports whether q and o have the same value, whatever their format
// or spelling: "1000m", "1" and "1e3" are all equal.
func (q Quantity) Equal(o Quantity) bool { return q.milli == o.milli }

// IsZero reports whether the value is zero.
func (q Quantity) IsZero() bool { return q.milli == 0 }

// Sign returns -1, 0 or 1 for negative, zero and positive values.
func (q Quantity) Sign() int { return q.Cmp(Quantity{}) }

// Format returns the format q prints in. The zero Quantity reports DecimalSI,
// which is also what "0" parses as.
func (q Quantity) Format() Format {
	if q.format == "" {
		return DecimalSI
	}
	return q.format
}

// Add sets q to q+o. The result keeps q's format, or takes o's when q is
// zero, so that summing into a zero accumulator picks up the format of the
// things being summed ("0" + "1Gi" prints as "1Gi"). Like NewQuantity, the
// sum saturates instead of overflowing.
func (q *Quantity) Add(o Quantity) {
	if q.milli == 0 {
		q.format = o.format
	}
	q.milli = addSat(q.milli, o.milli)
}

// Sub sets q to q-o, with the same format and saturation rules as Add.
func (q *Quantity) Sub(o Quantity) {
	if q.milli == 0 {
		q.format = o.format
	}
	q.milli = subSat(q.milli, o.milli)
}

// AsApproximateFloat64 returns the value in units as a float64, for metrics
// and ratios. It is exact up to 2^53 milli-units.
func (q Quantity) AsApproximateFloat64() float64 {
	return float64(q.milli) / 1000
}

// addSat returns a+b clamped to the int64 range.
func addSat(a, b int64) int64 {
	s := a + b
	// Overflow happened iff both operands have the sign opposite to the sum's.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		if a >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// subSat returns a-b clamped to the int64 range.
func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		// -b is not representable; a - MinInt64 = a + MaxInt64 + 1.
		if a >= 0 {
			return math.MaxInt64
		}
		return a + math.MaxInt64 + 1
	}
	return addSat(a, -b)
}

// mulSat returns a*b for b > 0, clamped to the int64 range.
func mulSat(a, b int64) int64 {
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	if a < math.MinInt64/b {
		return math.MinInt64
	}
	return a * b
}
