// Package render prints a plan.Plan for people and machines: Text in
// Terraform's notation for a terminal, Markdown for a pull-request
// comment, and JSON in the shape of `terraform show -json` for policy
// tools. FromTerraformJSON goes the other way: it reads a Terraform plan
// of maestro_* resources into a plan.Plan, with the same impact analysis
// as `maestro plan`, so both paths give reviewers the same comment.
//
// All renderers share one tree printer (tree.go): attributes, then
// blocks, sorted by name; in an update only what changed, with counts of
// the unchanged attributes and blocks hidden; sensitive values printed as
// "(sensitive value)" everywhere, including the JSON.
package render
