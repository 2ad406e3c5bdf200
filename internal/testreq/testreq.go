// Package testreq decides what a test does when something it needs from
// the machine (a tool, root, Docker, a kernel feature) is missing: under
// CI=true that is a failure, since CI must test everything; elsewhere the
// test skips with a loud message. It imports nothing of the project, so
// every package's tests can use it.
package testreq

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether missing requirements are failures (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails (CI) or loudly skips the test because a requirement is missing.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required for this test under CI=true: %s", msg)
	}
	t.Skipf("!!! SKIPPING: %s (with CI=true this is a failure) !!!", msg)
}

// Root requires an effective uid of 0 (mounts, namespaces, addresses).
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root: %s", why)
	}
}
