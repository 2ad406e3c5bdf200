package api

import "time"

// Event records something that happened to an object, for people reading
// `maestro describe`.
type Event struct {
	TypeMeta       `json:",inline"`
	ObjectMeta     `json:"metadata"`
	InvolvedObject ObjectReference `json:"involvedObject"`
	Reason         string          `json:"reason"`
	Message        string          `json:"message,omitempty"`
	Type           string          `json:"type,omitempty"` // Normal or Warning
	Count          int32           `json:"count,omitempty"`
	FirstTimestamp time.Time       `json:"firstTimestamp,omitzero"`
	LastTimestamp  time.Time       `json:"lastTimestamp,omitzero"`
	Source         EventSource     `json:"source,omitzero"`
}

// Event types.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// EventSource names the component that reported an event.
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}
