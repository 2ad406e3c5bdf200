package api

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

const (
	dns1123LabelMaxLength     = 63
	dns1123SubdomainMaxLength = 253
)

var (
	dns1123LabelRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	ianaSvcNameRe  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	configKeyRe    = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	envVarNameRe   = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
	hasLetterRe    = regexp.MustCompile(`[a-z]`)
)

// IsDNS1123Label checks a name like "web-1": at most 63 lowercase letters,
// digits and '-', starting and ending with a letter or digit. It returns the
// reason the name is invalid, or "".
func IsDNS1123Label(s string) string {
	if len(s) > dns1123LabelMaxLength {
		return fmt.Sprintf("must be no more than %d characters", dns1123LabelMaxLength)
	}
	if !dns1123LabelRe.MatchString(s) {
		return "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. \"my-name\")"
	}
	return ""
}

// IsDNS1123Subdomain checks a dotted name like "node-1.example.com".
func IsDNS1123Subdomain(s string) string {
	if len(s) > dns1123SubdomainMaxLength {
		return fmt.Sprintf("must be no more than %d characters", dns1123SubdomainMaxLength)
	}
	for _, part := range strings.Split(s, ".") {
		if !dns1123LabelRe.MatchString(part) || len(part) > dns1123LabelMaxLength {
			return "must be a DNS-1123 subdomain: dot-separated labels of lowercase letters, digits and '-' (e.g. \"example.com\")"
		}
	}
	return ""
}

// IsIANASvcName checks a port name like "http": at most 15 characters,
// lowercase letters, digits and '-', with at least one letter.
func IsIANASvcName(s string) string {
	switch {
	case len(s) > 15:
		return "must be no more than 15 characters"
	case !ianaSvcNameRe.MatchString(s) || strings.Contains(s, "--"):
		return "must contain only lowercase letters, digits and '-', starting and ending with a letter or digit, with no '--'"
	case !hasLetterRe.MatchString(s):
		return "must contain at least one letter"
	}
	return ""
}

// IsPortNumber checks 1-65535.
func IsPortNumber(p int32) string {
	if p < 1 || p > 65535 {
		return "must be between 1 and 65535, inclusive"
	}
	return ""
}

// IsConfigKey checks a config map or secret key (also used as a file name).
func IsConfigKey(s string) string {
	switch {
	case len(s) > dns1123SubdomainMaxLength:
		return fmt.Sprintf("must be no more than %d characters", dns1123SubdomainMaxLength)
	case !configKeyRe.MatchString(s):
		return "must consist of letters, digits, '-', '_' or '.'"
	case s == "." || s == ".." || strings.HasPrefix(s, ".."):
		return "must not be '.' or '..' or start with '..'"
	}
	return ""
}

// IsEnvVarName checks an environment variable name.
func IsEnvVarName(s string) string {
	if !envVarNameRe.MatchString(s) {
		return "must consist of letters, digits, '_', '-' or '.', and must not start with a digit"
	}
	return ""
}

// IsIP checks an IPv4 or IPv6 address.
func IsIP(s string) string {
	if net.ParseIP(s) == nil {
		return "must be a valid IP address"
	}
	return ""
}
