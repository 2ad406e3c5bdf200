package api

import "time"

// TokenRequest asks for a new API token (admin only).
type TokenRequest struct {
	Role string `json:"role"`
	// Node is the node of a node token; for a join token, the only node
	// name it admits (empty: any name that is not a live node's).
	Node        string `json:"node,omitempty"`
	TTLSeconds  int64  `json:"ttlSeconds,omitempty"`
	Description string `json:"description,omitempty"`
	// Join tokens only. Uses is how many nodes may join with it (default 1).
	Uses int `json:"uses,omitempty"`
	// Addresses are the IP addresses a node joining with the token is
	// admitted with: its serving certificate names them and the API server
	// reaches its agent only there. Empty admits the address the join
	// request comes from.
	Addresses []string `json:"addresses,omitempty"`
	// Labels are set on the node's Node when it registers; the node cannot
	// change them (zone, pool, instance type).
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are put on the node's Node when it registers (a pool's
	// taints: no pod lands there before they are on it).
	Taints []Taint `json:"taints,omitempty"`
}

// TokenResponse carries a new token; the secret is shown only here.
type TokenResponse struct {
	Token   string     `json:"token"`
	ID      string     `json:"id"`
	Role    string     `json:"role"`
	Node    string     `json:"node,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
	// Uses is how many joins a join token admits.
	Uses int `json:"uses,omitempty"`
}

// TokenInfo describes a stored token without its secret.
type TokenInfo struct {
	ID          string     `json:"id"`
	Role        string     `json:"role"`
	Node        string     `json:"node,omitempty"`
	Description string     `json:"description,omitempty"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
	// Join tokens: joins left, and what a node joining with it is admitted with.
	UsesLeft  int               `json:"usesLeft,omitempty"`
	Addresses []string          `json:"addresses,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Taints    []Taint           `json:"taints,omitempty"`
}

// TokenList is the answer to listing tokens.
type TokenList struct {
	Items []TokenInfo `json:"items"`
}

// JoinRequest exchanges a join token for a node's credentials
// (POST /v1/join, authenticated by the join token), or renews them (POST
// /v1/join/renew, authenticated by the node's current token; NodeName may
// then be empty).
type JoinRequest struct {
	NodeName string `json:"nodeName"`
	// CSR is a PEM certificate request for the agent's serving certificate:
	// the node's name and only addresses it is admitted with.
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
	// Expires is when the token and the certificate stop working; the
	// agent renews them well before.
	Expires *time.Time `json:"expires,omitempty"`
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
