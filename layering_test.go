package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/maestro-dev/maestro/"

// layeringExceptions are the imports that break DESIGN.md's dependency
// rule today, each with what it uses. TestDependencyRule fails when one of them is
// no longer needed, so the list only shrinks.
var layeringExceptions = map[string][]string{
	"provider": {"engine/cloud"}, // cloud.Secret, the redacting string type internal/remoteserver's Spec holds an ssh key in
}

// TestDependencyRule checks DESIGN.md's rule on the packages' (non-test)
// imports: engine/api imports nothing of ours; engine/store only
// engine/api; the Terraform provider and the CLI's planning packages reach
// the engine only through engine/api and engine/client; no engine package
// imports the provider or internal/ (test-support packages, named
// *test, aside). internal/cli wires servers and agents into processes
// (DESIGN.md's daemon/) and is not held to the client rule.
func TestDependencyRule(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	under := func(pkg string, roots ...string) bool {
		return slices.ContainsFunc(roots, func(r string) bool { return pkg == r || strings.HasPrefix(pkg, r+"/") })
	}
	used := map[string]map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok || under(dep, pkg) {
				continue
			}
			var broken string
			switch {
			case under(pkg, "engine/api") && !under(dep, "engine/api"):
				broken = "engine/api imports nothing of ours"
			case under(pkg, "engine/store") && !under(dep, "engine/api", "engine/store"):
				broken = "engine/store imports only engine/api"
			case under(pkg, "engine") && !strings.HasSuffix(pkg, "test") && under(dep, "provider", "internal"):
				broken = "the engine does not import the provider or internal/"
			case under(pkg, "provider", "internal/schema", "internal/convert", "internal/manifest", "internal/plan") &&
				under(dep, "engine") && !under(dep, "engine/api", "engine/client"):
				if slices.Contains(layeringExceptions[pkg], dep) {
					if used[pkg] == nil {
						used[pkg] = map[string]bool{}
					}
					used[pkg][dep] = true
					continue
				}
				broken = "the provider and the CLI reach the engine through engine/api and engine/client"
			}
			if broken != "" {
				t.Errorf("%s imports %s: %s", pkg, dep, broken)
			}
		}
	}
	for pkg, deps := range layeringExceptions {
		for _, dep := range deps {
			if !used[pkg][dep] {
				t.Errorf("%s no longer imports %s: take it off layeringExceptions", pkg, dep)
			}
		}
	}
}

// TestProviderLinksNoEtcd: the provider binary (this package) links no
// etcd, server or client. Terraform starts the provider three times for a
// plan, and etcd's package initialisation doubled each start (7 ms to
// 14-16 ms); what the provider needs of the store's neighbourhood (key
// files, etcd certificates for SSH clusters) lives in packages that do
// not import it (engine/store/keyring, engine/apiserver/pki).
func TestProviderLinksNoEtcd(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		if strings.HasPrefix(dep, "go.etcd.io/") || dep == module+"engine/store" {
			t.Errorf("the provider links %s", dep)
		}
	}
}
