package schema

import (
	"fmt"
	"strings"

	"github.com/maestro-dev/maestro/engine/client"
)

// Parts every kind shares: the metadata block (one shape, as in the
// Kubernetes provider: identity and labels in metadata, the payload
// beside it), the server-set id, and the fail-fast settings of a wait.

// metadataBlock is a namespaced object's metadata block; kind names the
// object in descriptions ("deployment").
func metadataBlock(kind string) Nested {
	return Single(Block{
		Description: fmt.Sprintf("Identity and labels of the %s.", kind),
		Attributes: map[string]Attribute{
			"name":        NameAttribute(fmt.Sprintf("Name (a DNS-1123 label). Changing it replaces the %s.", kind)),
			"namespace":   NameAttribute(fmt.Sprintf("Namespace. Changing it replaces the %s.", kind)),
			"labels":      labelsAttribute("labels"),
			"annotations": labelsAttribute("annotations"),
			"uid":         ComputedString(fmt.Sprintf("Server-assigned identity of this incarnation of the %s.", kind)),
		},
	})
}

// clusterMetadataBlock is a cluster-scoped object's metadata block:
// metadataBlock's attributes but namespace.
func clusterMetadataBlock(kind string) Nested {
	b := metadataBlock(kind)
	delete(b.Attributes, "namespace")
	return b
}

// NameAttribute is a required object name or namespace: a DNS-1123
// label whose change replaces the object.
func NameAttribute(description string) Attribute {
	return Attribute{Type: String, Description: description, Required: true, Format: DNSLabel, ForceNew: true}
}

// labelsAttribute is a labels or annotations map.
func labelsAttribute(what string) Attribute {
	return Attribute{Type: StringMap, Optional: true, Description: fmt.Sprintf("Map of %s. Only the keys set here are managed: "+
		"keys added by the server or other tools are left alone and never show as a diff.", what)}
}

// ComputedString is a server-set attribute (an id, a node name) that
// keeps its value across updates.
func ComputedString(description string) Attribute {
	return Attribute{Type: String, Description: description, Computed: true, KeepState: true}
}

// idAttribute is the resource's `namespace/name` id.
func idAttribute() Attribute { return ComputedString("`namespace/name`.") }

// waitAttribute is wait_for_rollout; what says what the wait waits for.
func waitAttribute(what string) Attribute {
	return Attribute{Type: Bool, Optional: true, Computed: true, Default: true, Description: what}
}

// failFastAttributes are unschedulable_timeout and crash_loop_restarts;
// subject is the pods waited for ("a new pod"), wait the wait's name
// ("the rollout wait").
func failFastAttributes(attrs map[string]Attribute, subject, wait string) map[string]Attribute {
	attrs["unschedulable_timeout"] = Attribute{
		Type: String, Optional: true, Format: Duration,
		Description: fmt.Sprintf("How long %s may stay unschedulable, with no node pool adding a node for it, before %s fails with the scheduler's reason (default `%s`; `0s`: at the scheduler's first verdict). "+
			"While the cluster autoscaler says a pool is adding nodes for the pod, the wait goes on; when it says no pool's node could ever hold the pod, the wait fails at once.",
			subject, wait, client.DefaultUnschedulableTimeout),
	}
	attrs["crash_loop_restarts"] = Attribute{
		Type: Int64, Optional: true, Range: Between(0, 1000),
		Description: fmt.Sprintf("How many restarts a container of %s may make: when it crashes again after that many, %s fails at once with its exit code and last log lines (default `%d`; `0`: at the first crash).",
			subject, wait, client.DefaultCrashLoopRestarts),
	}
	return attrs
}

// QuoteList is values quoted as markdown code and joined with commas and
// a final "or".
func QuoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "`" + v + "`"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
