package schema

// The description of a kind: what its HCL looks like and what the
// provider and the CLI must know about each attribute. It is plain data:
// the provider emits the plugin framework's schema from it
// (provider/schema_emit.go), and this package derives the hcldec spec the
// CLI decodes manifests with, the terraform-json shape and the rules
// (force-new, keep-unset, sensitive, server-owned) from it.

// Type is an attribute's value type.
type Type int

// The attribute types maestro's kinds use.
const (
	String Type = iota
	Int64
	Bool
	StringList
	StringMap
)

// Format is a value rule of a string attribute, checked at plan time by
// Terraform and the CLI alike.
type Format int

// The formats; the provider maps each to one validator.
const (
	AnyString    Format = iota
	DNSLabel            // a DNS-1123 label (object names, container names)
	AbsPath             // an absolute path
	Quantity            // a resource quantity ("500m", "64Mi"); "1" and "1000m" are no diff
	IntOrPercent        // "2" or "25%"
	PortOrName          // a port number or a container port's name
	Duration            // a Go duration ("30s")
	NodeName            // a node name (a DNS-1123 subdomain)
)

// PlanRule is an attribute's own planning rule beyond what the flags say,
// implemented by the provider under this name.
type PlanRule int

// The planning rules.
const (
	NoPlanRule PlanRule = iota
	// TargetPortDefault: a service port's target_port left out is planned
	// as the port itself.
	TargetPortDefault
	// NodePortKeep: a service port's node_port left out is none for a
	// ClusterIP service and the allocated one while the type stays.
	NodePortKeep
	// ClusterIPReplace: a service's cluster_ip replaces the service only
	// when a configured IP differs from the allocated one.
	ClusterIPReplace
	// VolumePinReplace: a volume's node_name replaces the volume only when
	// it pins the volume away from the node its data lives on.
	VolumePinReplace
)

// Attribute describes one attribute.
type Attribute struct {
	Type        Type
	Description string // markdown

	Required, Optional, Computed bool
	Sensitive                    bool // never printed
	WriteOnly                    bool // sent on apply, never stored or read back

	// Default is the value a left-out attribute takes (a string, int64 or
	// bool); the attribute is then Optional and Computed.
	Default any
	// ForceNew: a change replaces the object.
	ForceNew bool
	// KeepState: a computed value stays what it was across updates.
	KeepState bool

	OneOf  []string // the values a string may take
	Range  *Range   // the values a number may take
	Format Format
	Plan   PlanRule
}

// Range bounds a number, both ends included.
type Range struct{ Min, Max int64 }

// Between is a Range.
func Between(minimum, maximum int64) *Range { return &Range{Min: minimum, Max: maximum} }

// Block describes a block: the resource's body, or a nested block's.
type Block struct {
	Description string // markdown
	Attributes  map[string]Attribute
	Blocks      map[string]Nested
}

// Nested is a nested block: at most one (Single) or a list of them.
type Nested struct {
	List bool
	Block
}

// Single is a nested block that appears at most once.
func Single(b Block) Nested { return Nested{Block: b} }

// List is a nested block that may repeat.
func List(b Block) Nested { return Nested{List: true, Block: b} }

// Kind describes a manifest kind and its Terraform resource.
type Kind struct {
	Name    string // manifest kind ("deployment"); the resource type is TypePrefix+Name
	APIKind string // the API object's kind ("Deployment")
	// Version is the resource's schema version in Terraform state.
	Version int64
	Block
	// Timeouts lists the operations (create, update, delete) whose
	// timeouts a Terraform configuration may set; a manifest has none.
	Timeouts []string
	// ReplaceSpec: any change under spec replaces the object, but for
	// the attributes (and the blocks holding them) named here.
	ReplaceSpec []string
}
