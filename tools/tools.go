//go:build tools

// Package tools pins the build tools (tfplugindocs) in their own module so
// their dependencies stay out of the main module's go.mod.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
