package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// Labels and metadata keys maestro puts on its instances. Labels select
// (list filters); metadata holds the exact values (labels are limited to
// 63 lower-case characters, names to 253).
const (
	labelCluster = "maestro-cluster"
	labelPool    = "maestro-pool"
	labelMachine = "maestro-machine"
	labelKey     = "maestro-key" // the idempotency key
	metaScript   = "startup-script"
)

var (
	instanceNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	labelKeyRE     = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRE   = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// instanceName is the Compute Engine name of machine name: the name itself
// when it is one (RFC 1035, at most 63), else a stable encoding: invalid
// characters made '-', a leading "m-" when it does not start with a
// letter, cut to fit, and a hash of the whole name so that two names never
// share an encoding.
func instanceName(name string) string {
	if instanceNameRE.MatchString(name) {
		return name
	}
	s := sanitize(name, '-')
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "m-" + s
	}
	return strings.TrimRight(cut(s, 54), "-") + "-" + shortHash(name)
}

// labelValue is v as a Compute Engine label value: v itself when it is
// one, else a stable encoding (as instanceName's).
func labelValue(v string) string {
	if labelValueRE.MatchString(v) {
		return v
	}
	return strings.TrimRight(cut(sanitize(v, '-'), 54), "-") + "-" + shortHash(v)
}

// sanitize lower-cases s and replaces what is not a-z, 0-9 or '-' by sub.
func sanitize(s string, sub byte) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			b[i] = sub
		}
	}
	return string(b)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// requestNamespace is the UUID namespace of derived request IDs.
var requestNamespace = uuid.MustParse("6f1b2d44-8a53-4c1e-9a0e-3d5b7c2f9e61")

// requestID is the insert's requestId for a machine's idempotency key:
// the key itself when it is a UUID (a Machine's uid), else a UUID derived
// from it (Compute Engine takes only UUIDs). Compute Engine remembers a
// requestId for at least an hour and answers a repeated insert with the
// first one's operation instead of making a second instance. The machine
// controller gives each zone it falls back to a key of its own, so a
// retried insert never lands in another zone.
func requestID(key string) string {
	if u, err := uuid.Parse(key); err == nil && u.String() == key {
		return key
	}
	return uuid.NewSHA1(requestNamespace, []byte(key)).String()
}
