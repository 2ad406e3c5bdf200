// Package resource implements Quantity, the fixed-point number maestro uses
// for cpu and memory requests, limits and capacities.
//
// It follows Kubernetes' apimachinery/pkg/api/resource in syntax and
// meaning, but stores every value as an int64 count of milli-units. That is
// exact for everything a scheduler adds up (millicores, bytes) and keeps the
// type a small comparable value instead of an arbitrary-precision decimal.
// The price is range and precision: quantities finer than 1m or larger than
// about 9.2e15 units (8 PiB) are rejected at parse time instead of being
// rounded.
//
// # Syntax
//
//	quantity  ::= sign? number suffix?
//	sign      ::= "+" | "-"
//	number    ::= digits | digits "." digits? | "." digits
//	suffix    ::= "m"                                   (milli, DecimalSI)
//	            | "k" | "M" | "G" | "T" | "P" | "E"     (powers of 1000, DecimalSI)
//	            | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" (powers of 1024, BinarySI)
//	            | ("e" | "E") sign? digits              (power of ten, DecimalExponent)
//
// A quantity without a suffix is DecimalSI. Whitespace anywhere, an empty
// string, Kubernetes' "u" and "n" suffixes and any value that is not a whole
// number of milli-units are errors.
//
// # Canonical form
//
// String renders the value in the format family it was parsed with, using
// the largest unit that still represents the value as an integer:
//
//	DecimalSI:       1500m -> "1500m", 2000m -> "2", 1500000 -> "1500k", 1e9 -> "1G"
//	BinarySI:        1073741824 -> "1Gi", 1.5Gi -> "1536Mi"
//	DecimalExponent: 1000 -> "1e3", 1.5e9 -> "1500e6", 0.08 -> "80e-3" (exponents are multiples of 3)
//
// A BinarySI value that is not a whole multiple of 1024 units (including
// fractional ones) is rendered in DecimalSI form instead: 1500 -> "1500",
// 0.5Ki -> "512", 1.5 -> "1500m", and also 1000 -> "1k". The last case differs
// from Kubernetes, which prints "1000"; maestro does not, because "1000"
// parses back as DecimalSI and would then print as "1k", and the string
// stored for an object must not change when it is read and written again.
// Zero is always "0"; negative values keep their sign.
//
// The guarantees callers can rely on are therefore: Equal and Cmp compare
// values, never spellings ("1000m", "1" and "1e3" are equal; so are "1Gi",
// "1024Mi" and "1073741824"), ParseQuantity(q.String()) is Equal to q, and
// String is a fixed point: parsing it and printing again gives the same text.
package resource
