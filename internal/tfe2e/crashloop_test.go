package tfe2e_test

import (
	"testing"
)

// crashConfig is a deployment and a pod whose only container prints its
// startup line and exits with status 3 a moment later, over and over; the
// readiness probe's initial delay outlives every run, so no replica is
// ever available, not even for an instant (without a probe, a container
// is ready while it runs: a pod would be ready for those 100 ms, and its
// wait, like `kubectl wait --for=condition=Ready`, would end there).
const crashConfig = providerBlock + `
resource "maestro_namespace" "crash" {
  metadata {
    name = "crash"
  }
}

resource "maestro_deployment" "crasher" {
  metadata {
    name      = "crasher"
    namespace = maestro_namespace.crash.metadata.name
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "crasher" }
    }
    template {
      labels = { app = "crasher" }
      {{container}}
    }
  }
  timeouts {
    create = "{{timeout}}"
  }
}

resource "maestro_pod" "crasher" {
  metadata {
    name      = "crasher"
    namespace = maestro_namespace.crash.metadata.name
  }
  spec {
    {{container}}
  }
  timeouts {
    create = "{{timeout}}"
  }
}
`

// crasherContainer is the container block of both, spliced in with hcl.
const crasherContainer = `container {
  name  = "crasher"
  image = "maestro-demo:v1"
  args  = ["--exit-after", "100ms", "--exit-code", "3"]
  readiness_probe {
    http_get {
      path = "/readyz"
      port = "8080"
    }
    initial_delay_seconds = 10
  }
}`

// TestCrashLoopFailsWithExitCodeAndLogs applies a deployment that can
// never roll out, and a pod that can never start: apply must fail within
// their create timeout, and each error must say why in the user's terms,
// the container's exit status and the last lines it logged.
func TestCrashLoopFailsWithExitCodeAndLogs(t *testing.T) {
	t.Parallel()
	c := startLocalCluster(t, 1)
	w := newWorkspace(t, map[string]string{"main.tf": hcl(crashConfig, "{{timeout}}", "60s", "{{container}}", crasherContainer)})
	w.setVar("config_path", c.ConfigPath)

	r := w.apply()
	if r.code == 0 {
		t.Fatalf("apply of a crash-looping deployment succeeded\n%s", r)
	}
	wantOutput(t, r,
		`Deployment crash/crasher did not roll out`,
		// The exit status, however the provider words it ("exit code 3",
		// "exited with code 3", "exit status 3").
		`(?i)exit(ed)?( with)?( code| status)?[ =:]*3\b`,
		// A line the container logged: its startup line, or the one it
		// prints as it exits.
		`maestro-demo listening on :8080|exiting with code 3 after 100ms`,
		// The pod's own wait applies the same crash-loop rule.
		`Pod crash/crasher did not become ready`,
		`pod crash/crasher cannot start: container crasher: crash loop: exited with code 3 \(\S+\) after 3 restart\(s\)`,
	)
	t.Logf("apply failed as it should:\n%s", r.stderr)
}
