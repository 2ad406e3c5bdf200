package client

import (
	"context"
	"net/url"

	"github.com/maestro-dev/maestro/engine/api"
)

// CreateToken issues an API token (admin only); the answer is the only
// place its secret appears.
func (c *Client) CreateToken(ctx context.Context, req api.TokenRequest) (api.TokenResponse, error) {
	var resp api.TokenResponse
	err := c.Do(ctx, "POST", "/v1/tokens", nil, req, &resp)
	return resp, err
}

// ListTokens lists tokens without their secrets.
func (c *Client) ListTokens(ctx context.Context) ([]api.TokenInfo, error) {
	var resp api.TokenList
	err := c.Do(ctx, "GET", "/v1/tokens", nil, nil, &resp)
	return resp.Items, err
}

// DeleteToken revokes a token.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	return c.Do(ctx, "DELETE", "/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// Version asks the server for its version.
func (c *Client) Version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := c.Do(ctx, "GET", "/version", nil, nil, &v)
	return v.Version, err
}
