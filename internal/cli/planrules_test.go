package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/internal/planrules"
)

// TestPlanCatchesWhatTheServerWould: every rule of the API that
// internal/planrules lists is caught by `maestro plan` with no cluster
// reachable (the client config does not exist), naming the manifest's
// file and line and the attribute.
func TestPlanCatchesWhatTheServerWould(t *testing.T) {
	t.Parallel()
	noCluster := filepath.Join(t.TempDir(), "no-such-config")
	if len(planrules.Cases) < 12 {
		t.Fatalf("%d plan rule cases, want at least 12", len(planrules.Cases))
	}
	for _, tc := range planrules.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(tc.Manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := run(t, noCluster, "plan", dir)
			if got := exitStatus(err); got != 1 {
				t.Fatalf("plan exited %d, want 1 (an error):\n%s", got, out)
			}
			msg := err.Error()
			if strings.Contains(msg, "cannot be reached") {
				t.Fatalf("plan did not catch the mistake before asking the cluster:\n%s", msg)
			}
			for _, want := range []string{"main.hcl:", tc.WantAttr, tc.WantText} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}
