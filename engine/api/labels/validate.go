package labels

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	// maxNameLength bounds label names and values; it is the DNS label
	// limit, which lets values be used as host-name parts.
	maxNameLength = 63
	// maxPrefixLength is the DNS-1123 subdomain limit.
	maxPrefixLength = 253
)

// ValidateKey reports whether k is a valid label key: an optional prefix
// that is a DNS-1123 subdomain (lowercase, at most 253 characters) followed
// by "/", then a name of 1-63 characters from [A-Za-z0-9-_.] that starts and
// ends with a letter or digit. Examples: "app", "maestro.dev/role".
func ValidateKey(k string) error {
	if err := validateKey(k); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}

// ValidateValue reports whether v is a valid label value: empty, or 1-63
// characters from [A-Za-z0-9-_.] that start and end with a letter or digit.
func ValidateValue(v string) error {
	if err := validateValue(v); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}

// validateKey and validateValue return errors without the package prefix
// so that Parse can embed them in its own message.
func validateKey(k string) error {
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if strings.Contains(name, "/") {
			return fmt.Errorf("invalid key %q: must contain at most one \"/\"", k)
		}
		if err := checkPrefix(prefix); err != nil {
			return fmt.Errorf("invalid key %q: prefix %q %w", k, prefix, err)
		}
	}
	if name == "" {
		return fmt.Errorf("invalid key %q: name part must not be empty", k)
	}
	if err := checkName(name); err != nil {
		if name == k {
			return fmt.Errorf("invalid key %q: %w", k, err)
		}
		return fmt.Errorf("invalid key %q: name %q %w", k, name, err)
	}
	return nil
}

func validateValue(v string) error {
	if v == "" {
		return nil
	}
	if err := checkName(v); err != nil {
		return fmt.Errorf("invalid value %q: %w", v, err)
	}
	return nil
}

// checkName checks the shared syntax of key names and values. Its errors
// read as a predicate ("must ...") so callers can put the subject in front.
func checkName(s string) error {
	if len(s) > maxNameLength {
		return fmt.Errorf("must be at most %d characters, not %d", maxNameLength, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c):
		case c == '-' || c == '_' || c == '.':
			if i == 0 || i == len(s)-1 {
				return errors.New("must start and end with a letter or digit")
			}
		default:
			return fmt.Errorf("must contain only letters, digits, '-', '_' and '.', not %s at offset %d", charAt(s, i), i)
		}
	}
	return nil
}

// charAt quotes the character starting at byte offset i of s, decoding
// UTF-8 so that "äpp" reports 'ä' rather than its first byte.
func charAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte %#x", s[i])
	}
	return fmt.Sprintf("%q", r)
}

// checkPrefix checks a DNS-1123 subdomain: dot-separated labels of
// lowercase letters, digits and '-', each starting and ending with a letter
// or digit.
func checkPrefix(p string) error {
	if p == "" {
		return errors.New("must not be empty (omit the \"/\" for an unprefixed key)")
	}
	if len(p) > maxPrefixLength {
		return fmt.Errorf("must be at most %d characters, not %d", maxPrefixLength, len(p))
	}
	for _, part := range strings.Split(p, ".") {
		if part == "" {
			return errors.New("must be a DNS subdomain: empty label between dots")
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case c == '-':
				if i == 0 || i == len(part)-1 {
					return fmt.Errorf("must be a DNS subdomain: label %q must start and end with a lowercase letter or digit", part)
				}
			default:
				return fmt.Errorf("must be a DNS subdomain of lowercase letters, digits, '-' and '.', not %s", charAt(part, i))
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
