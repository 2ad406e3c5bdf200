package api

import "time"

// APIVersion is the only version of the maestro API.
const APIVersion = "v1"

// TypeMeta names the kind of a serialized object.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// GetTypeMeta gives access to the type metadata of any object embedding TypeMeta.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// ObjectMeta is the metadata every stored object carries.
type ObjectMeta struct {
	Name string `json:"name,omitempty"`
	// GenerateName asks the server to pick a unique name with this prefix
	// when Name is empty (controllers name their pods this way).
	GenerateName string `json:"generateName,omitempty"`
	Namespace    string `json:"namespace,omitempty"`
	// UID identifies this incarnation of the object: a deleted and re-created
	// object with the same name has a new UID.
	UID         string            `json:"uid,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// ResourceVersion is the store revision of the last write to the object.
	// Every update is a compare-and-swap on it.
	ResourceVersion int64 `json:"resourceVersion,omitempty"`
	// Generation counts changes to the desired state (everything but
	// metadata and status); controllers report observedGeneration.
	Generation        int64            `json:"generation,omitempty"`
	OwnerReferences   []OwnerReference `json:"ownerReferences,omitempty"`
	Finalizers        []string         `json:"finalizers,omitempty"`
	CreationTimestamp time.Time        `json:"creationTimestamp,omitzero"`
	// DeletionTimestamp is set when deletion was requested but finalizers (or
	// a graceful pod shutdown) still hold the object.
	DeletionTimestamp          *time.Time `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64     `json:"deletionGracePeriodSeconds,omitempty"`
}

// GetObjectMeta gives access to the metadata of any object embedding ObjectMeta.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// Key is the namespace/name key of the object ("name" for cluster-scoped ones).
func (m *ObjectMeta) Key() string { return Key(m.Namespace, m.Name) }

// Key joins a namespace and name into the "namespace/name" form used by
// caches and work queues; cluster-scoped objects are keyed by name alone.
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// ControllerRef returns the owner reference marked as the managing controller.
func (m *ObjectMeta) ControllerRef() *OwnerReference {
	for i := range m.OwnerReferences {
		if r := &m.OwnerReferences[i]; r.Controller != nil && *r.Controller {
			return r
		}
	}
	return nil
}

// OwnerReference points from a dependent to the object that owns it; the
// garbage collector deletes dependents whose owners are gone.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion,omitempty"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// Object is implemented by every kind through its embedded TypeMeta and ObjectMeta.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}

// ListMeta describes a list response.
type ListMeta struct {
	// ResourceVersion is the store revision the list was read at; a watch
	// from it sees every later change.
	ResourceVersion int64 `json:"resourceVersion,omitempty"`
}

// List is the wire shape of a list response ("PodList" and so on).
type List[T any] struct {
	TypeMeta `json:",inline"`
	Metadata ListMeta `json:"metadata"`
	Items    []T      `json:"items"`
}

// ConditionStatus is the status of a condition.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is an observation of one aspect of an object's state.
type Condition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
	LastTransitionTime time.Time       `json:"lastTransitionTime,omitzero"`
	// LastUpdateTime is when the condition last changed in any way or, for
	// a deployment's Progressing condition, when the rollout last progressed.
	LastUpdateTime time.Time `json:"lastUpdateTime,omitzero"`
	// LastHeartbeatTime is renewed by whoever reports the condition (node
	// agents renew their Ready condition with it).
	LastHeartbeatTime time.Time `json:"lastHeartbeatTime,omitzero"`
}

// FindCondition returns the condition of the given type, or nil.
func FindCondition(conds []Condition, typ string) *Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// SetCondition sets a condition, keeping its transition time unless its
// status changed. It reports whether anything changed apart from heartbeat time.
func SetCondition(conds *[]Condition, c Condition, now time.Time) bool {
	if existing := FindCondition(*conds, c.Type); existing != nil {
		changed := existing.Status != c.Status || existing.Reason != c.Reason || existing.Message != c.Message
		if existing.Status != c.Status || existing.LastTransitionTime.IsZero() {
			c.LastTransitionTime = now
		} else {
			c.LastTransitionTime = existing.LastTransitionTime
		}
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = existing.LastUpdateTime
			if changed {
				c.LastUpdateTime = now
			}
		}
		*existing = c
		return changed
	}
	c.LastTransitionTime = now
	if c.LastUpdateTime.IsZero() {
		c.LastUpdateTime = now
	}
	*conds = append(*conds, c)
	return true
}

// LabelSelector selects objects by their labels. Both parts must match.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one set-based requirement of a label selector.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"` // In, NotIn, Exists, DoesNotExist
	Values   []string `json:"values,omitempty"`
}

// Label selector operators.
const (
	SelectorOpIn           = "In"
	SelectorOpNotIn        = "NotIn"
	SelectorOpExists       = "Exists"
	SelectorOpDoesNotExist = "DoesNotExist"
)

// Well-known labels the agent and cloud controller set on nodes.
const (
	LabelHostname     = "maestro.dev/hostname"
	LabelZone         = "topology.maestro.dev/zone"
	LabelRegion       = "topology.maestro.dev/region"
	LabelInstanceType = "node.maestro.dev/instance-type"
	LabelNodePool     = "node.maestro.dev/pool"
	// LabelNodeRestrictionPrefix starts labels a node can never set or
	// change on itself (only admins, controllers and its join token can),
	// so workloads can select nodes by them safely.
	LabelNodeRestrictionPrefix = "node-restriction.maestro.dev/"
)
