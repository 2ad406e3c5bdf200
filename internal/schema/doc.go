// Package schema describes every manifest kind once: its blocks and
// attributes, their types, defaults and value rules, which changes force
// replacement and which fields the server owns (describe.go, kinds.go,
// podspec.go). Both readers of HCL use it: the CLI decodes manifests with
// the hcldec specs derived here and plans with the rules derived here;
// the Terraform provider emits its plugin-framework schema from the same
// description (provider/schema_emit.go). The package imports neither the
// framework nor the provider, so the CLI binary links neither.
package schema
