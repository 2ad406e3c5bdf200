package tfe2e_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretConfig is a secret with one value in data (kept, sensitive, in
// state) and one in data_wo (never in plan or state), from an ephemeral
// variable as users are told to pass it.
const secretConfig = providerBlock + `
variable "password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "maestro_namespace" "vault" {
  metadata {
    name = "vault"
  }
}

resource "maestro_secret" "db" {
  metadata {
    namespace = maestro_namespace.vault.metadata.name
    name      = "db"
  }

  data = {
    username = "{{data}}"
  }
  data_wo = {
    password = var.password
  }
  data_wo_version = 1
}
`

// TestSecretNeverLogged plans and applies a secret with every log at
// trace level and looks for its values (as written, and base64 as the API
// carries them) everywhere terraform writes: stdout, stderr and the log
// file, and, for the write-only value, the state.
func TestSecretNeverLogged(t *testing.T) {
	t.Parallel()
	c := startAPIOnly(t)
	const (
		dataValue = "d4ta-Sentinel-9f3c1e"
		woValue   = "wr1te-0nly-Sentinel-77ab02"
	)
	w := newWorkspace(t, map[string]string{"main.tf": hcl(secretConfig, "{{data}}", dataValue)})
	w.setVar("config_path", c.ConfigPath)
	applyNeverLeaks(t, w, []string{"TF_VAR_password=" + woValue}, "maestro_secret",
		append(base64Forms(dataValue), base64Forms(woValue)...), base64Forms(woValue))

	// Both values did reach the API: the test looked for what was sent.
	sec, err := c.Client.Secrets("vault").Get(context.Background(), "db")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(sec.Data["username"]); got != dataValue {
		t.Errorf("secret data username = %q, want %q", got, dataValue)
	}
	if got := string(sec.Data["password"]); got != woValue {
		t.Errorf("secret data password (from data_wo) = %q, want %q", got, woValue)
	}
}

// base64Forms is a value as written and base64-encoded, as the API
// carries secret data.
func base64Forms(v string) []string { return []string{v, base64.StdEncoding.EncodeToString([]byte(v))} }

// applyNeverLeaks plans and applies w with every log at trace level (env
// adds to it) and fails the test when any of secrets appears where
// terraform writes, stdout, stderr and the log file, or any of stateless
// (write-only values) in the state. resourceType is a type the
// configuration applies, whose provider log lines the trace log must hold
// for the search to mean anything.
func applyNeverLeaks(t *testing.T, w *workspace, env []string, resourceType string, secrets, stateless []string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	env = append([]string{"TF_LOG=trace", "TF_LOG_PROVIDER=trace", "TF_LOG_PATH=" + logPath}, env...)
	noSecrets := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Errorf("%s contains the secret value %q: ...%s...", where, s, text[max(0, i-300):min(len(text), i+len(s)+100)])
			}
		}
	}

	plan := w.plan(env...)
	if plan.code != 2 {
		t.Fatalf("plan: want exit 2 (changes)\n%s", plan)
	}
	noSecrets("plan output", plan.output())
	apply := w.apply(env...)
	if apply.code != 0 {
		t.Fatalf("apply failed\n%s", apply)
	}
	noSecrets("apply output", apply.output())

	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("reading the trace log: %v", err)
	}
	// The search must be able to fail: the log holds what the provider
	// logged at trace level, not just terraform's own lines.
	for _, want := range []string{"provider.terraform-provider-maestro", "@module=sdk.framework", "tf_resource_type=" + resourceType, "tf_rpc=ApplyResourceChange"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the trace log (%d bytes) has no %q: the provider's logs did not reach it", len(log), want)
		}
	}
	noSecrets("the trace log", string(log))

	state, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stateless {
		if strings.Contains(string(state), s) {
			t.Errorf("the state holds the write-only value %q", s)
		}
	}
}
