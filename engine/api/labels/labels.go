package labels

import (
	"fmt"
	"slices"
	"strings"
)

// Labels is read access to an object's labels. Set implements it; callers
// can implement it over their own storage to avoid copying.
type Labels interface {
	// Has reports whether the key is present (possibly with value "").
	Has(key string) bool
	// Get returns the value for key, or "" if it is absent.
	Get(key string) string
}

// Set is a plain map of labels. The nil Set is an empty set.
type Set map[string]string

// Compile-time checks.
var (
	_ Labels       = Set(nil)
	_ fmt.Stringer = Set(nil)
)

// Has reports whether key is in s.
func (s Set) Has(key string) bool {
	_, ok := s[key]
	return ok
}

// Get returns the value of key, or "" if it is not in s.
func (s Set) Get(key string) string { return s[key] }

// String returns the labels as "a=b,c=d", sorted by key so the result is
// stable enough for logs, tests and cache keys.
func (s Set) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(s[k])
	}
	return b.String()
}
