package resource

// Format is the suffix family a Quantity was written in. It only affects how
// the value is printed, never comparisons.
type Format string

const (
	// DecimalSI uses powers of 1000: 1500m, 1, 1k, 1M, 1G, 1T, 1P, 1E.
	DecimalSI Format = "DecimalSI"
	// BinarySI uses powers of 1024: 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei.
	BinarySI Format = "BinarySI"
	// DecimalExponent uses scientific notation: 1e3, 1.5e9.
	DecimalExponent Format = "DecimalExponent"
)
