package api

// ConfigMap holds configuration for pods: as environment variables or files.
type ConfigMap struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Data       map[string]string `json:"data,omitempty"`
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// Secret holds sensitive data; it is encrypted at rest and never logged.
type Secret struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Data       map[string][]byte `json:"data,omitempty"`
	// StringData is a write-only convenience: its entries are merged into
	// Data on write and it is never returned.
	StringData map[string]string `json:"stringData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// SecretTypeOpaque is the default secret type.
const SecretTypeOpaque = "Opaque"
