package testenv

import (
	"os/exec"
	"testing"

	"github.com/maestro-dev/maestro/internal/testreq"
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
	testreq.Missing(t, "%s not found: %s", name, install)
	return ""
}
