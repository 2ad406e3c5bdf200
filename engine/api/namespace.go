package api

// Namespace scopes names; deleting it deletes everything in it.
type Namespace struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       NamespaceSpec   `json:"spec,omitzero"`
	Status     NamespaceStatus `json:"status,omitzero"`
}

// NamespaceSpec is empty today; it exists so the shape matches every kind.
type NamespaceSpec struct{}

// Namespace phases.
const (
	NamespaceActive      = "Active"
	NamespaceTerminating = "Terminating"
)

// NamespaceStatus reports whether the namespace is being deleted.
type NamespaceStatus struct {
	Phase string `json:"phase,omitempty"`
}

// Namespaces every cluster has.
const (
	NamespaceDefault = "default"
	NamespaceSystem  = "maestro-system"
)

// FinalizerNamespace holds a namespace until its contents are deleted.
const FinalizerNamespace = "maestro.dev/namespace"

// FinalizerForeground holds an owner until its dependents are deleted.
const FinalizerForeground = "foregroundDeletion"

// FinalizerOrphan holds an owner until its dependents no longer point at it.
const FinalizerOrphan = "orphan"
