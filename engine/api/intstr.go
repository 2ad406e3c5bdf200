package api

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// IntOrString holds either a number or a string, as in "targetPort: 8080" or
// "targetPort: http", or "maxSurge: 25%".
type IntOrString struct {
	IsString bool
	IntVal   int32
	StrVal   string
}

// FromInt makes a numeric IntOrString.
func FromInt(i int32) IntOrString { return IntOrString{IntVal: i} }

// FromString makes a string IntOrString.
func FromString(s string) IntOrString { return IntOrString{IsString: true, StrVal: s} }

// IsZero reports whether the value is unset (0 or "").
func (v IntOrString) IsZero() bool {
	return !v.IsString && v.IntVal == 0 || v.IsString && v.StrVal == ""
}

func (v IntOrString) String() string {
	if v.IsString {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// MarshalJSON writes a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.StrVal)
	}
	return json.Marshal(v.IntVal)
}

// UnmarshalJSON reads a JSON number or string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*v = IntOrString{IsString: true}
		return json.Unmarshal(b, &v.StrVal)
	}
	*v = IntOrString{}
	return json.Unmarshal(b, &v.IntVal)
}

// ScaledValue resolves an absolute number or a percentage of total.
// Percentages round up when roundUp is set (maxSurge) and down otherwise
// (maxUnavailable), as Kubernetes does.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if !v.IsString {
		return int(v.IntVal), nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok {
		return 0, fmt.Errorf("%q: must be an integer or a percentage", v.StrVal)
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q: must be an integer or a percentage", v.StrVal)
	}
	f := float64(p) * float64(total) / 100
	if roundUp {
		return int(math.Ceil(f)), nil
	}
	return int(math.Floor(f)), nil
}
