package client

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
)

// Backup streams a backup of the cluster's etcd to w (admin only). The
// stream ends with its own checksum: check what w received with
// store.VerifyBackup (store.SaveBackup does both).
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/backup", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("receiving the backup: %w", err)
	}
	return nil
}

// RotateEncryptionKey makes the server add a new secret encryption key,
// re-encrypt every secret with it and drop the old keys (admin only).
func (c *Client) RotateEncryptionKey(ctx context.Context) (api.KeyRotation, error) {
	var out api.KeyRotation
	err := c.Do(ctx, http.MethodPost, "/v1/encryption/rotate-key", nil, nil, &out)
	return out, err
}
