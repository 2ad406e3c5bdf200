// Package provider is the maestro Terraform provider, built on
// terraform-plugin-framework. It manages API objects (namespaces, config
// maps, secrets, deployments, pods, services, volumes, autoscalers, node pools) through the typed client in
// engine/client, and reads namespaces, services and nodes as data sources.
//
// Data flow: Terraform calls Configure once with the provider block; the
// result (a client, or the reason there is none) is handed to every
// resource, which reports a missing client only when it needs one. Every
// resource embeds crud (crud.go), the shared create/read/update/delete/
// import, and supplies a pair of functions converting between its
// Terraform model and the API object (expand: model -> object, flatten:
// object -> model); pods and deployment templates share podspec*.go.
// Every API object's resource has one shape, the Kubernetes provider's: a
// metadata block (metadata.go) and its payload beside it; the kinds that
// were flat upgrade their older states (shape_upgrade.go).
// flatten keeps only the labels and annotations the configuration set, so
// keys added by the server or by other tools never show as a diff. A
// resource may declare a part of its object owned by another controller
// (crud's owned hook): maestro_deployment's replicas while an Autoscaler
// targets it (deployment_autoscaled.go); refresh and apply then keep that
// part of the state as configured and leave the live value alone.
// maestro_autoscaler (autoscaler_*.go) checks its configuration with the
// API's own validation at plan time. ModifyPlan of maestro_deployment,
// maestro_pod and maestro_node_pool warns what the apply does to running
// pods and machines ("Impact: TYPE ID"): impact.go hands internal/plan
// (plan.ChangeImpact, the rules `maestro plan` uses) the change's trees
// and API objects.
//
// maestro_cluster needs no client: it runs a control plane (a local
// `maestro server` through internal/localserver) and outputs what a
// provider block needs to reach it. maestro_node_pool adds plan-time
// checks (nodepool_plan.go) and its impact warning, the key secret of ssh
// pools, and a wait on the pool's and machines' conditions
// (nodepool_wait.go).
package provider
