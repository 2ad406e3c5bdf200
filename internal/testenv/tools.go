package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireTool returns the path of an external program a suite needs
// (etcd, docker, terraform, sshd). Without it the test fails when CI=true,
// and is skipped with a loud message otherwise, saying how to install it.
func RequireTool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: %s", name, install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING: " + msg)
	return ""
}
