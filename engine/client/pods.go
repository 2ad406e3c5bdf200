package client

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
)

// Join exchanges the client's join token for a node's credentials.
func (c *Client) Join(ctx context.Context, req api.JoinRequest) (api.JoinResponse, error) {
	var resp api.JoinResponse
	err := c.Do(ctx, "POST", "/v1/join", nil, req, &resp)
	return resp, err
}

// RenewNodeCredentials exchanges the client's node token, before it
// expires, for a new token and serving certificate (the old token keeps
// working for a grace period).
func (c *Client) RenewNodeCredentials(ctx context.Context, req api.JoinRequest) (api.JoinResponse, error) {
	var resp api.JoinResponse
	err := c.Do(ctx, "POST", "/v1/join/renew", nil, req, &resp)
	return resp, err
}

// LogOptions select a container's log lines.
type LogOptions struct {
	Container  string
	Follow     bool
	TailLines  int64
	Timestamps bool
}

// PodLogs copies a container's log to w (until the container's log ends,
// or ctx ends when following).
func (c *Client) PodLogs(ctx context.Context, namespace, pod string, opts LogOptions, w io.Writer) error {
	q := url.Values{}
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.TailLines > 0 {
		q.Set("tailLines", strconv.FormatInt(opts.TailLines, 10))
	}
	if opts.Timestamps {
		q.Set("timestamps", "true")
	}
	resp, err := c.send(ctx, "GET", podPath(namespace, pod)+"/log", q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// PodStats reads a pod's current resource usage from its node's agent.
func (c *Client) PodStats(ctx context.Context, namespace, pod string) (api.PodStats, error) {
	var st api.PodStats
	err := c.Do(ctx, "GET", podPath(namespace, pod)+"/stats", nil, nil, &st)
	return st, err
}

func podPath(namespace, pod string) string {
	return "/v1/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(pod)
}
