package tfe2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/provider"
)

// providerAddress is the address main.go serves the provider under.
const providerAddress = provider.Address

// providerBlock is the terraform and provider blocks every configuration
// of this package starts with; the client config file of the cluster
// comes in through var.config_path.
const providerBlock = `terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}

variable "config_path" {
  type = string
}

provider "maestro" {
  config_path = var.config_path
}
`

// buildDir holds the provider binary built once per test process; TestMain
// removes it.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tfe2e-provider-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	providerOnce sync.Once
	providerErr  error
)

// providerBinaryDir builds terraform-provider-maestro from the module root
// (once per test process) and returns the directory holding it.
func providerBinaryDir(t testing.TB) string {
	t.Helper()
	providerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(buildDir, "terraform-provider-maestro"),
			"github.com/maestro-dev/maestro")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			providerErr = fmt.Errorf("go build of the provider: %w\n%s", err, out)
		}
	})
	if providerErr != nil {
		t.Fatal(providerErr)
	}
	return buildDir
}

// workspace is a terraform working directory with its own CLI config,
// which points the provider's address at the binary just built.
type workspace struct {
	t   testing.TB
	dir string
	env []string
	// vars are -var arguments given to plan, apply and destroy.
	vars []string
}

// newWorkspace writes files (name -> content) into a fresh working
// directory. Nothing needs `terraform init`: with dev_overrides terraform
// uses the binary directly.
func newWorkspace(t testing.TB, files map[string]string) *workspace {
	t.Helper()
	testenv.RequireTool(t, "terraform", "install terraform >= 1.11 (write-only attributes) in $PATH")
	bin := providerBinaryDir(t)
	root := t.TempDir()
	cliConfig := filepath.Join(root, "terraform.tfrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", providerAddress, bin)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &workspace{t: t, dir: dir, env: hermeticEnv(cliConfig)}
}

// copyWorkspace is newWorkspace with the *.tf files of a directory.
func copyWorkspace(t testing.TB, src string) *workspace {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(src, "*.tf"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no *.tf files in %s (%v)", src, err)
	}
	files := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(n)] = string(b)
	}
	return newWorkspace(t, files)
}

// hermeticEnv is baseEnv plus what every terraform run needs: the CLI
// config, no version check, automation output, no prompts.
func hermeticEnv(cliConfig string) []string {
	return append(baseEnv(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
	)
}

// baseEnv is the process environment without the TF_*, CHECKPOINT_* and
// MAESTRO_* settings of whoever runs the tests.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "MAESTRO_") || strings.HasPrefix(kv, "CHECKPOINT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// setVar adds a -var to every plan, apply and destroy.
func (w *workspace) setVar(name, value string) { w.vars = append(w.vars, "-var", name+"="+value) }

// tfResult is what one terraform command did.
type tfResult struct {
	args           []string
	stdout, stderr string
	code           int
	took           time.Duration
	// cpu is the CPU time of terraform and the processes it waited for
	// (its provider plugins, unless served from the test process).
	cpu time.Duration
}

// output is stdout and stderr, for matching.
func (r tfResult) output() string { return r.stdout + r.stderr }

func (r tfResult) String() string {
	return fmt.Sprintf("terraform %s: exit %d after %s\n--- stdout\n%s\n--- stderr\n%s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs terraform with args (and extra environment), whatever its
// exit status; only a failure to run it at all fails the test.
func (w *workspace) run(extraEnv []string, args ...string) tfResult {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string(nil), w.env...), extraEnv...)
	// Interrupt first so terraform releases its state; kill if it hangs.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := tfResult{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("running terraform %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	if ctx.Err() != nil {
		w.t.Fatalf("terraform %s did not finish in time\n%s", strings.Join(args, " "), r)
	}
	return r
}

// apply runs `terraform apply -auto-approve` and returns its result
// whatever the exit status.
func (w *workspace) apply(extraEnv ...string) tfResult {
	w.t.Helper()
	return w.run(extraEnv, append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, w.vars...)...)
}

// plan runs `terraform plan -detailed-exitcode`: 0 no changes, 1 error,
// 2 changes.
func (w *workspace) plan(extraEnv ...string) tfResult {
	w.t.Helper()
	return w.run(extraEnv, append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}, w.vars...)...)
}

// destroy runs `terraform destroy -auto-approve`.
func (w *workspace) destroy(extraEnv ...string) tfResult {
	w.t.Helper()
	return w.run(extraEnv, append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, w.vars...)...)
}

// mustApply applies and fails the test unless terraform succeeded.
func (w *workspace) mustApply() tfResult {
	w.t.Helper()
	r := w.apply()
	if r.code != 0 {
		w.t.Fatalf("apply failed\n%s", r)
	}
	return r
}

// mustDestroy destroys and fails the test unless terraform succeeded.
func (w *workspace) mustDestroy() tfResult {
	w.t.Helper()
	r := w.destroy()
	if r.code != 0 {
		w.t.Fatalf("destroy failed\n%s", r)
	}
	return r
}

// wantPlan runs a plan and fails the test unless it exits with code
// (0: no changes, 2: changes).
func (w *workspace) wantPlan(code int) tfResult {
	w.t.Helper()
	r := w.plan()
	if r.code != code {
		w.t.Fatalf("plan: want exit %d, got %d\n%s", code, r.code, r)
	}
	return r
}

// configClient is a client of the cluster named by the workspace's
// sensitive `config` output ({server, ca, token}), and that server URL.
func (w *workspace) configClient() (*client.Client, string) {
	w.t.Helper()
	r := w.run(nil, "output", "-json", "config")
	var out struct{ Server, CA, Token string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		w.t.Fatalf("terraform output config\n%s", r)
	}
	c, err := client.New(client.Config{Server: out.Server, CertificateAuthorityData: out.CA, Token: out.Token})
	if err != nil {
		w.t.Fatal(err)
	}
	return c, out.Server
}
