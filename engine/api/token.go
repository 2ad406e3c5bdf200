package api

import "time"

// TokenRequest asks for a new API token (admin only).
type TokenRequest struct {
	Role        string `json:"role"`
	Node        string `json:"node,omitempty"`
	TTLSeconds  int64  `json:"ttlSeconds,omitempty"`
	Description string `json:"description,omitempty"`
}

// TokenResponse carries a new token; the secret is shown only here.
type TokenResponse struct {
	Token   string     `json:"token"`
	ID      string     `json:"id"`
	Role    string     `json:"role"`
	Node    string     `json:"node,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
}

// TokenInfo describes a stored token without its secret.
type TokenInfo struct {
	ID          string     `json:"id"`
	Role        string     `json:"role"`
	Node        string     `json:"node,omitempty"`
	Description string     `json:"description,omitempty"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
}

// TokenList is the answer to listing tokens.
type TokenList struct {
	Items []TokenInfo `json:"items"`
}

// JoinRequest exchanges a join token for a node's credentials
// (POST /v1/join, authenticated by the join token).
type JoinRequest struct {
	NodeName string `json:"nodeName"`
	// CSR is a PEM certificate request for the agent's serving certificate.
	CSR string `json:"csr"`
}

// JoinResponse carries a node's credentials.
type JoinResponse struct {
	// Token is the node's own API token (role node).
	Token string `json:"token"`
	// CACertificate is the cluster CA (PEM): it verifies the API server,
	// and the client certificate the API server presents to agents.
	CACertificate string `json:"caCertificate"`
	// ServingCertificate is the agent's serving certificate (PEM), signed
	// by the node CA for the names in the CSR.
	ServingCertificate string `json:"servingCertificate"`
}

// PodStats is a pod's resource usage, served by the node's agent through
// GET .../pods/{name}/stats.
type PodStats struct {
	Timestamp  time.Time        `json:"timestamp"`
	Containers []ContainerStats `json:"containers"`
}

// ContainerStats is one container's usage.
type ContainerStats struct {
	Name string `json:"name"`
	// CPUMilli is the average cpu use over the agent's last sampling
	// interval, in millicores.
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
}
