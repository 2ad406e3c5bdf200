// Package convert turns manifest attribute trees into API objects and back,
// as the provider's expand and flatten functions do, so `maestro plan`
// and `terraform plan` read the same HCL the same way.
//
// An attribute tree is what a user writes in HCL: snake_case attribute
// names, a single nested block as map[string]any, a repeated block as
// []any of map[string]any, and values string, bool, int64, float64,
// []any of strings and map[string]any of strings. Null attributes and
// absent blocks are left out.
//
// The data flow of a plan: a manifest's cty value -> FromCty -> raw tree
// -> FromAttrs -> API object (ToObject does both). For a diff both sides
// go through ToAttrs of a defaulted object (Normalize), so quantities
// compare by value ("1000m" is "1") and defaults the server fills in are
// no change; Align then takes out what the manifest leaves to the server.
package convert
