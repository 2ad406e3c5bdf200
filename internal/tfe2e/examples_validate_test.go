package tfe2e_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// homeFile finds file(pathexpand("~/...")) in an example.
var homeFile = regexp.MustCompile(`pathexpand\("~/([^"]+)"\)`)

// configuresProvider reports whether src has a provider "maestro" block
// without an alias (the default provider's configuration).
func configuresProvider(t *testing.T, name string, src []byte) bool {
	f, diags := hclsyntax.ParseConfig(src, name, hclv2.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %s: %s", name, diags)
	}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "provider" && len(b.Labels) == 1 && b.Labels[0] == "maestro" && b.Body.Attributes["alias"] == nil {
			return true
		}
	}
	return false
}

// TestDocExamplesValidate runs `terraform validate` on every resource and
// data source example of the docs (examples/resources, examples/data-sources,
// rendered into docs/ by tfplugindocs), so that an example the schema no
// longer takes fails here rather than on a reader.
func TestDocExamplesValidate(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("../../examples/*/maestro_*")
	if err != nil || len(dirs) < 10 {
		t.Fatalf("examples: %v (%d found)", err, len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			home := t.TempDir() // files the example reads from ~ (keys), as placeholders
			ownProvider := false
			tfs, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
			for _, f := range tfs {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				files["example_"+filepath.Base(f)] = string(b)
				ownProvider = ownProvider || configuresProvider(t, f, b)
				for _, m := range homeFile.FindAllSubmatch(b, -1) {
					p := filepath.Join(home, string(m[1]))
					if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, []byte("placeholder"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			if len(tfs) == 0 {
				t.Fatalf("no *.tf in %s", dir)
			}
			files["provider.tf"] = providerBlock
			if ownProvider { // it configures the provider itself: only the requirement
				files["provider.tf"] = providerBlock[:strings.Index(providerBlock, "variable")]
			}
			w := newWorkspace(t, files)
			if r := w.run([]string{"HOME=" + home}, "validate", "-no-color"); r.code != 0 || !strings.Contains(r.stdout, "The configuration is valid") {
				t.Errorf("terraform validate of %s:\n%s", dir, r)
			}
		})
	}
}
