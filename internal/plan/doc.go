// Package plan is the pure desired-vs-actual step of `maestro plan` and
// `maestro apply`, and the reader's model of a Terraform plan.
//
// Data flow: the caller (internal/cli with internal/manifest, or
// render.FromTerraformJSON) hands Compute what the manifests want and what
// the cluster has, as attribute trees (the HCL view a reviewer reads) and
// API objects (what impact analysis reads). Compute pairs them by address,
// diffs the trees (absent values, numbers and quantities compare by
// meaning), marks a change a replacement when a ForceNew attribute
// differs, leaves an autoscaler's replicas alone, and calls Assess, which
// says what each change does to running pods and machines (rolling
// update, recreate, restart, scale, machines created, replaced or
// drained) and where new pods would go from the dry-run previews.
// ChangeImpact is that rule for one change: the Terraform provider's plan
// warnings use it too, so both plans say the same.
// Nothing here does I/O beyond the io.Writer/Reader of saved plans
// (Save, Load) and Stale, which compares the resourceVersions a saved
// plan saw with the cluster's current ones. Rendering is in plan/render.
package plan
