// Package schema is the description of every manifest kind the CLI reads:
// the provider's resource schemas (blocks, attributes and their types) in
// the shape `terraform providers schema -json` prints, plus a side table
// of what that shape leaves out (attributes that force replacement, that
// the server fills in when left out, that are sensitive or write-only).
//
// The provider's framework schema stays the source of truth: schema.json
// and rules.json are generated from it (see schemagen; regenerate with
// `go generate ./internal/schema`), and provider/schema_json_test.go fails
// when they are stale. This package does not import the provider.
package schema

//go:generate go run ./gen .
