package provider_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/maestro-dev/maestro/internal/schema/schemagen"
)

// TestSchemaJSONCurrent fails when internal/schema's generated files no
// longer match the provider's schemas: the CLI would read manifests with
// another description than Terraform uses.
func TestSchemaJSONCurrent(t *testing.T) {
	files, err := schemagen.Generate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join("..", "internal", "schema", name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v (run `%s`)", path, err, schemagen.Command)
		}
		if !bytes.Equal(got, files[name]) {
			t.Errorf("internal/schema/%s is stale: the provider's schema changed since it was generated. Run `%s` and commit the result.", name, schemagen.Command)
		}
	}
}
