// Package manifest reads a directory of HCL manifests into the objects
// `maestro plan` and `maestro apply` compare with the cluster.
//
// A manifest holds the provider's resources without the `resource` keyword
// and the maestro_ prefix (`deployment "web" { metadata { ... } spec { ... } }`),
// `variable` blocks (type, default; values from -var and MAESTRO_VAR_<name>),
// `locals`, and references between objects by attribute path
// (`namespace.shop.name`, `deployment.web.metadata.name`).
//
// Data flow: parse every *.hcl file (hclparse) -> index blocks -> resolve
// variables -> order locals and objects by their references (a cycle is an
// error) -> evaluate each in that order with an hcl.EvalContext holding
// var, local and the objects evaluated so far, decoding objects with
// schema.Spec -> convert.ToObject. Every diagnostic names file:line and
// the attribute.
package manifest
