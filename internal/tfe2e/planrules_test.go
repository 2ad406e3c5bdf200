package tfe2e_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/internal/planrules"
)

// unreachableProvider configures the provider with an endpoint nothing
// listens on: a plan that needed the cluster would fail to reach it.
const unreachableProvider = `terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}

provider "maestro" {
  endpoint = "https://%s"
  token    = "never-used"
}
`

// Each of the API's rules in internal/planrules is caught by `terraform
// plan` with no cluster reachable: the plan fails, naming the attribute
// and giving the API's message. (That the API server refuses each case,
// with the same message at the same field, is TestPlanRulesMatchTheServer
// in provider/, which sends the objects the provider would write to an
// in-process API server.)
func TestPlanCatchesWhatTheServerWould(t *testing.T) {
	addr := closedAddress(t)
	for _, c := range planrules.Cases {
		t.Run(c.Name, func(t *testing.T) {
			w := newWorkspace(t, map[string]string{"main.tf": fmt.Sprintf(unreachableProvider, addr) + planrules.ToTerraform(c.Manifest)})
			r := w.plan()
			if r.code != 1 {
				t.Fatalf("plan: want exit 1 (refused), got %d\n%s", r.code, r)
			}
			out := unframe(r.output())
			if want := c.WantAttr + ": "; !strings.Contains(out, want) {
				t.Errorf("the plan does not name the attribute %s\n%s", c.WantAttr, r)
			}
			if !strings.Contains(out, unframe(c.WantText)) {
				t.Errorf("the plan does not give the API's message %q\n%s", c.WantText, r)
			}
			if strings.Contains(out, "connection refused") || strings.Contains(out, "Plan:") {
				t.Errorf("the plan went as far as the cluster\n%s", r)
			}
		})
	}
}

// closedAddress is a local address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// boxAndSpace are terraform's diagnostic frame and the line breaks and
// indentation of text it wrapped.
var boxAndSpace = regexp.MustCompile(`[│╷╵\s]+`)

// unframe is terraform's output with its frame removed and every run of
// white space one space, so wrapped text matches.
func unframe(s string) string { return strings.TrimSpace(boxAndSpace.ReplaceAllString(s, " ")) }
