// Command gen writes internal/schema's generated files from the provider
// (run by `go generate ./internal/schema`).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/internal/schema/schemagen"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, err := schemagen.Generate(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema generation:", err)
		os.Exit(1)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "schema generation:", err)
			os.Exit(1)
		}
	}
}
