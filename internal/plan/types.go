package plan

import (
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Action is what an apply does to one object.
type Action string

// Actions, with Terraform's names.
const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	NoOp    Action = "no-op"
)

// Change is one object's change. Attribute trees are as the user writes
// them in HCL (snake_case attribute names, blocks as map[string]any for
// single blocks and []any of map[string]any for repeated blocks), with
// JSON-like values: map[string]any, []any, string, bool, json.Number,
// float64, int64, int, nil. A value that is only known after the apply
// (from a Terraform plan) is the string Unknown.
type Change struct {
	Address   string `json:"address"` // "deployment.web" (manifests) or "maestro_deployment.web" (terraform)
	Kind      string `json:"kind"`    // API kind: "Deployment"; "" for a Terraform type that is not one
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    Action `json:"action"`
	// Before is nil on create, After nil on delete.
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
	// ReplacePaths are the attribute paths whose change forces the
	// replacement ("metadata.name", "spec.selector").
	ReplacePaths []string `json:"replace_paths,omitempty"`
	// Sensitive are attribute paths whose values are never printed
	// ("data", "string_data"); a path covers everything under it.
	Sensitive []string `json:"sensitive,omitempty"`
	// ResourceVersion of the live object seen when planning ("" on create).
	ResourceVersion string `json:"resource_version,omitempty"`
	// Impact says what the change does to running pods and machines.
	Impact []string `json:"impact,omitempty"`
	// Desired and Live are the API objects behind After and Before, for
	// impact analysis; saved plans keep Desired (see Save).
	Desired api.Object `json:"-"`
	Live    api.Object `json:"-"`
}

// Plan is every change a set of manifests (or a Terraform plan) makes.
type Plan struct {
	Changes []Change `json:"changes"` // sorted by address
	// Impact is plan-wide: where new pods go and which would not fit,
	// fields an autoscaler owns.
	Impact   []string  `json:"impact,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
	Created  time.Time `json:"created,omitzero"`
}

// Resource is one object as Compute sees it: what the manifests (or
// Terraform) want, or what the cluster has.
type Resource struct {
	Address, Kind, Namespace, Name string
	Attrs                          map[string]any // attribute tree (see Change)
	Object                         api.Object     // desired: converted from the manifest; actual: live
}

// Options tune Compute.
type Options struct {
	// Previews are the dry-run placement previews of desired workloads, by
	// address (may be nil).
	Previews map[string]api.PlacementPreview
	// ForceNew lists, per Kind, attribute paths whose change forces
	// replacement.
	ForceNew map[string][]string
	// Sensitive lists, per Kind, attribute paths never printed.
	Sensitive map[string][]string
	// Autoscaled: addresses of deployments an autoscaler targets (their
	// replicas are owned by it).
	Autoscaled map[string]bool
	// Prune: actual resources not in desired are deleted (the caller passes
	// only those these manifests created); with false they are left alone.
	Prune bool
}

// Unknown stands for a value known only after the apply (Terraform's
// "(known after apply)"); renderers print it unquoted.
const Unknown = "(known after apply)"

// SensitiveValue is printed in place of every sensitive value.
const SensitiveValue = "(sensitive value)"
