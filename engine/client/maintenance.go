package client

import (
	"context"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
)

// RotateEncryptionKey makes the server add a new secret encryption key,
// re-encrypt every secret with it and drop the old keys (admin only).
func (c *Client) RotateEncryptionKey(ctx context.Context) (api.KeyRotation, error) {
	var out api.KeyRotation
	err := c.Do(ctx, http.MethodPost, "/v1/encryption/rotate-key", nil, nil, &out)
	return out, err
}
