// Package provider is the maestro Terraform provider, built on
// terraform-plugin-framework. It manages API objects (namespaces, config
// maps, secrets, deployments, services) through the typed client in
// engine/client, and reads namespaces, services and nodes as data sources.
//
// Data flow: Terraform calls Configure once with the provider block; the
// result (a client, or the reason there is none) is handed to every
// resource, which reports a missing client only when it needs one. Each
// resource converts between its Terraform model and the API object with a
// pair of functions (expand: model -> object, flatten: object -> model);
// flatten keeps only the labels and annotations the configuration set, so
// keys added by the server or by other tools never show as a diff.
package provider
