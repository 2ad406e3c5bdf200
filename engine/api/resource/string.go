package resource

import "strconv"

// decimalSuffixes and binarySuffixes list the suffixes String may choose,
// largest first. "E" and "Ei" are absent on purpose: 1E and 1Ei exceed the
// int64 milli-unit range, so no representable non-zero value uses them.
var (
	decimalSuffixes = []struct {
		suffix string
		units  uint64
	}{
		{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3},
	}
	binarySuffixes = []struct {
		suffix string
		units  uint64
	}{
		{"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10},
	}
)

// String returns the canonical form of q described in the package
// documentation: q's format family, the largest unit that keeps the number
// an integer, "0" for zero.
func (q Quantity) String() string {
	return string(q.appendCanonical(make([]byte, 0, 24)))
}

func (q Quantity) appendCanonical(b []byte) []byte {
	if q.milli == 0 {
		return append(b, '0')
	}
	// Work on the magnitude as uint64 so that math.MinInt64 needs no
	// special case.
	mag := uint64(q.milli)
	if q.milli < 0 {
		b = append(b, '-')
		mag = -mag
	}
	switch q.Format() {
	case BinarySI:
		if mag%1000 == 0 {
			units := mag / 1000
			for _, s := range binarySuffixes {
				if units%s.units == 0 {
					return append(strconv.AppendUint(b, units/s.units, 10), s.suffix...)
				}
			}
		}
		// Not a whole number of KiB: the decimal form is the only exact
		// one that parses back to the same text (see the package doc).
		return appendDecimalSI(b, mag)
	case DecimalExponent:
		return appendDecimalExponent(b, mag)
	default:
		return appendDecimalSI(b, mag)
	}
}

func appendDecimalSI(b []byte, mag uint64) []byte {
	if mag%1000 != 0 {
		return append(strconv.AppendUint(b, mag, 10), 'm')
	}
	units := mag / 1000
	for _, s := range decimalSuffixes {
		if units%s.units == 0 {
			return append(strconv.AppendUint(b, units/s.units, 10), s.suffix...)
		}
	}
	return strconv.AppendUint(b, units, 10)
}

// appendDecimalExponent writes mag milli-units as mantissa "e" exponent with
// the exponent a multiple of three, as Kubernetes does ("1500e6", "80e-3").
// An exponent of zero is left out ("5").
func appendDecimalExponent(b []byte, mag uint64) []byte {
	exp := -3
	for mag%1000 == 0 {
		mag /= 1000
		exp += 3
	}
	b = strconv.AppendUint(b, mag, 10)
	if exp == 0 {
		return b
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(exp), 10)
}
