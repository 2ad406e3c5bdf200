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
