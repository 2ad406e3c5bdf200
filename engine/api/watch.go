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
