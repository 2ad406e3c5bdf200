package resource

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
)

// Compile-time checks: Quantity must round-trip through encoding/json and
// through any encoder that uses the text interfaces (YAML, map keys, flags).
var (
	_ json.Marshaler           = Quantity{}
	_ json.Unmarshaler         = (*Quantity)(nil)
	_ encoding.TextMarshaler   = Quantity{}
	_ encoding.TextUnmarshaler = (*Quantity)(nil)
)

// MarshalJSON encodes q as a JSON string holding its canonical form. A
// string rather than a number, because "1536Mi" carries the unit a human
// wrote and a float64 cannot hold every int64 milli-value exactly.
func (q Quantity) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = q.appendCanonical(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string ("500m", "1Gi") or a JSON number (2,
// 0.5, 1e3), because hand-written manifests often leave cpu: 2 unquoted. A
// number is read from its literal text, never via float64, so 0.1 is exactly
// 100m. JSON null leaves q unchanged, as encoding/json does for other types.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("quantities: %w", err)
		}
		return q.UnmarshalText([]byte(s))
	}
	if len(data) == 0 || !json.Valid(data) || !isJSONNumber(data[0]) {
		return fmt.Errorf("quantities: want a JSON string or number, got %s", truncate(data))
	}
	return q.UnmarshalText(data)
}

// MarshalText returns the canonical form of q.
func (q Quantity) MarshalText() ([]byte, error) {
	return q.appendCanonical(nil), nil
}

// UnmarshalText parses text as ParseQuantity does. On error q is unchanged.
func (q *Quantity) UnmarshalText(text []byte) error {
	v, err := ParseQuantity(string(text))
	if err != nil {
		return err
	}
	*q = v
	return nil
}

func isJSONNumber(c byte) bool { return c == '-' || ('0' <= c && c <= '9') }

// truncate keeps error messages readable when the offending JSON is a large
// object or array.
func truncate(data []byte) string {
	const maxLen = 40
	if len(data) > maxLen {
		return string(data[:maxLen]) + "..."
	}
	return string(data)
}
