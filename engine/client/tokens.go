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

// BindPod assigns a pod to a node (the scheduler's write). A non-zero
// resourceVersion makes it a compare-and-swap against the pod; binding a
// bound pod is a Conflict. It returns the pod's new resourceVersion.
func (c *Client) BindPod(ctx context.Context, namespace, name, node string, resourceVersion int64) (int64, error) {
	b := api.Binding{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: namespace, ResourceVersion: resourceVersion},
		Target:     api.ObjectReference{Kind: "Node", Name: node},
	}
	var out api.Binding
	path := "/v1/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(name) + "/binding"
	if err := c.Do(ctx, "POST", path, nil, b, &out); err != nil {
		return 0, err
	}
	return out.ResourceVersion, nil
}
