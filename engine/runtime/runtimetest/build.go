package runtimetest

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"
)

// BuildProgram compiles the static program testdata/<name> into a
// temporary directory of t and returns its path.
func BuildProgram(t testing.TB, name string) string {
	t.Helper()
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		t.Fatal("runtimetest: cannot locate the package's source directory")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(goruntime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(gobin, "build", "-trimpath", "-o", out, "./testdata/"+name)
	cmd.Dir = filepath.Dir(file)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("runtimetest: building testdata/%s: %v\n%s", name, err, b)
	}
	return out
}
