package api

// KeyRotation reports a rotation of the key secrets are encrypted with
// (POST /v1/encryption/rotate-key).
type KeyRotation struct {
	// KeyID is the new key, which now seals every secret.
	KeyID string `json:"keyID"`
	// Reencrypted counts the secrets rewritten with the new key.
	Reencrypted int `json:"reencrypted"`
	// RemovedKeyIDs are the keys dropped from the key file.
	RemovedKeyIDs []string `json:"removedKeyIDs,omitempty"`
	// KeyFile is the file the server keeps the keys in.
	KeyFile string `json:"keyFile"`
}
