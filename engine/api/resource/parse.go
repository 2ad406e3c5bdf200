package resource

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// ParseQuantity parses s in the syntax described in the package
// documentation. The result remembers the suffix family of s (its Format).
func ParseQuantity(s string) (Quantity, error) {
	q, err := parse(s)
	if err != nil {
		return Quantity{}, fmt.Errorf("quantities: %q: %w", s, err)
	}
	return q, nil
}

// MustParse is ParseQuantity for literals in tests and package-level
// variables; it panics if s is not a valid quantity.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return q
}

// errOverflow is shared by every path that detects an out-of-range value so
// the message (and the limit it quotes) is the same everywhere.
var errOverflow = errors.New("value too large: its milli-value overflows int64 " +
	"(maestro supports quantities up to about 8 PiB / 9.2e15 units)")

var errFiner = errors.New("precision finer than 1m (maestro quantities are whole milli-units)")

// suffix describes what a suffix multiplies the number by: 2^pow2 * 10^pow10.
type suffix struct {
	pow2, pow10 int
	format      Format
}

var suffixes = map[string]suffix{
	"":   {0, 0, DecimalSI},
	"m":  {0, -3, DecimalSI},
	"k":  {0, 3, DecimalSI},
	"M":  {0, 6, DecimalSI},
	"G":  {0, 9, DecimalSI},
	"T":  {0, 12, DecimalSI},
	"P":  {0, 15, DecimalSI},
	"E":  {0, 18, DecimalSI},
	"Ki": {10, 0, BinarySI},
	"Mi": {20, 0, BinarySI},
	"Gi": {30, 0, BinarySI},
	"Ti": {40, 0, BinarySI},
	"Pi": {50, 0, BinarySI},
	"Ei": {60, 0, BinarySI},
}

// parse does the work of ParseQuantity; its errors do not repeat the input.
func parse(s string) (Quantity, error) {
	if s == "" {
		return Quantity{}, errors.New("empty quantity")
	}
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return Quantity{}, errors.New("leading or trailing whitespace")
	}

	rest := s
	neg := false
	if rest[0] == '+' || rest[0] == '-' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	intPart, rest := leadingDigits(rest)
	var fracPart string
	if strings.HasPrefix(rest, ".") {
		fracPart, rest = leadingDigits(rest[1:])
	}
	if intPart == "" && fracPart == "" {
		return Quantity{}, errors.New("expected a number")
	}

	suf, err := parseSuffix(rest)
	if err != nil {
		return Quantity{}, err
	}
	milli, err := toMilli(intPart+fracPart, suf.pow10+3-len(fracPart), suf.pow2, neg)
	if err != nil {
		return Quantity{}, err
	}
	return Quantity{milli: milli, format: suf.format}, nil
}

func parseSuffix(s string) (suffix, error) {
	if suf, ok := suffixes[s]; ok {
		return suf, nil
	}
	switch s {
	case "u", "n":
		// Valid in Kubernetes (micro, nano) but always below maestro's
		// resolution; say so instead of calling the suffix unknown.
		return suffix{}, fmt.Errorf("suffix %q is finer than 1m (maestro quantities are whole milli-units)", s)
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		exp, err := strconv.ParseInt(s[1:], 10, 32)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return suffix{}, fmt.Errorf("exponent %q out of range", s)
			}
			return suffix{}, fmt.Errorf("invalid exponent %q: want e or E followed by an integer", s)
		}
		return suffix{0, int(exp), DecimalExponent}, nil
	}
	return suffix{}, fmt.Errorf("unknown suffix %q", s)
}

// toMilli computes ±digits * 10^pow10 * 2^pow2, which must be an integer in
// the int64 range. pow10 is already shifted to milli-units.
func toMilli(digits string, pow10, pow2 int, neg bool) (int64, error) {
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0, nil // zero with any suffix or exponent is zero
	}
	// Move trailing zeros into the exponent so that the bounds below see
	// the number of significant digits.
	trimmed := strings.TrimRight(digits, "0")
	pow10 += len(digits) - len(trimmed)
	digits = trimmed

	// Rule out absurd exponents before doing arithmetic with them, so that
	// "1e999999999" costs nothing. With d significant digits the value is at
	// least 10^(d-1+pow10) (2^pow2 >= 1), which overflows from 10^19 on; and
	// below 10^(d+pow10) * 2^60 < 10^(d+pow10+19), which is below one
	// milli-unit (hence fractional, since it is non-zero) when d+pow10+19 <= 0.
	d := len(digits)
	if d-1+pow10 >= 19 {
		return 0, errOverflow
	}
	if d+pow10+19 <= 0 {
		return 0, errFiner
	}

	n, _ := new(big.Int).SetString(digits, 10) // digits are [0-9]+ by construction
	n.Lsh(n, uint(pow2))
	if pow10 >= 0 {
		n.Mul(n, pow(10, pow10))
	} else {
		var r big.Int
		n.QuoRem(n, pow(10, -pow10), &r)
		if r.Sign() != 0 {
			return 0, errFiner
		}
	}
	if neg {
		n.Neg(n)
	}
	if !n.IsInt64() {
		return 0, errOverflow
	}
	return n.Int64(), nil
}

func pow(base, exp int) *big.Int {
	return new(big.Int).Exp(big.NewInt(int64(base)), big.NewInt(int64(exp)), nil)
}

// leadingDigits splits s after its leading run of ASCII digits.
func leadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}
