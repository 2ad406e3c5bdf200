package client

import (
	"context"

	"github.com/maestro-dev/maestro/engine/api"
)

// ClusterInfo asks the server for the cluster's service network: service
// CIDR, cluster DNS address, cluster domain and node port range.
func (c *Client) ClusterInfo(ctx context.Context) (*api.ClusterInfo, error) {
	var info api.ClusterInfo
	if err := c.Do(ctx, "GET", "/v1/cluster-info", nil, nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}
