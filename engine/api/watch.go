package api

import "encoding/json"

// Watch event types, as in Kubernetes.
const (
	WatchAdded    = "ADDED"
	WatchModified = "MODIFIED"
	WatchDeleted  = "DELETED"
	WatchBookmark = "BOOKMARK"
	WatchError    = "ERROR"
)

// WatchEvent is one line of a watch stream (newline-delimited JSON). For
// ERROR events the object is a Status.
type WatchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// HeaderPlacementPreview carries a PlacementPreview (as JSON) on the answer
// to a dry-run write of a pod, replica set or deployment.
const HeaderPlacementPreview = "Maestro-Placement-Preview"

// QueryNamespaceMayBeNew, set on a dry-run create, has the server take a
// namespace that does not exist for a new, empty one, so a plan creating
// the namespace and the object in it still validates and previews.
const QueryNamespaceMayBeNew = "namespaceMayBeNew"

// PlacementPreview says where the scheduler would put the pods a dry-run
// write describes, given the cluster as it is now. Nothing is bound.
type PlacementPreview struct {
	Pods   int            `json:"pods"`
	Placed int            `json:"placed"`
	Nodes  map[string]int `json:"nodes,omitempty"`
	// Reason is the scheduler's counted message for the first pod that
	// fits nowhere ("0/5 nodes available: 3 insufficient memory, ...").
	Reason string `json:"reason,omitempty"`
}
