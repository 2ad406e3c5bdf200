package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/maestro-dev/maestro/engine/api"
)

// PodMetricsClient reads pods' usage (served from the API server's
// memory: what agents reported in their last interval).
type PodMetricsClient struct {
	c  *Client
	ns string
}

// PodMetrics reads the usage of pods in a namespace ("" = every namespace,
// for List only).
func (c *Client) PodMetrics(namespace string) PodMetricsClient {
	return PodMetricsClient{c: c, ns: namespace}
}

// List returns the usage of the pods matching opts.LabelSelector (pods
// without a report yet are missing).
func (p PodMetricsClient) List(ctx context.Context, opts ListOptions) ([]*api.PodMetrics, error) {
	path := "/v1/podmetrics"
	if p.ns != "" {
		path = "/v1/namespaces/" + url.PathEscape(p.ns) + "/podmetrics"
	}
	var out api.PodMetricsList
	if err := p.c.Do(ctx, http.MethodGet, path, labelQuery(opts), nil, &out); err != nil {
		return nil, err
	}
	items := make([]*api.PodMetrics, len(out.Items))
	for i := range out.Items {
		items[i] = &out.Items[i]
	}
	return items, nil
}

// Get returns one pod's usage (404 until its node reported it).
func (p PodMetricsClient) Get(ctx context.Context, name string) (*api.PodMetrics, error) {
	var out api.PodMetrics
	path := "/v1/namespaces/" + url.PathEscape(p.ns) + "/podmetrics/" + url.PathEscape(name)
	if err := p.c.Do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NodeMetricsClient reads nodes' usage.
type NodeMetricsClient struct{ c *Client }

// NodeMetrics reads the usage of nodes.
func (c *Client) NodeMetrics() NodeMetricsClient { return NodeMetricsClient{c: c} }

// List returns the usage of the nodes matching opts.LabelSelector.
func (n NodeMetricsClient) List(ctx context.Context, opts ListOptions) ([]*api.NodeMetrics, error) {
	var out api.NodeMetricsList
	if err := n.c.Do(ctx, http.MethodGet, "/v1/nodemetrics", labelQuery(opts), nil, &out); err != nil {
		return nil, err
	}
	items := make([]*api.NodeMetrics, len(out.Items))
	for i := range out.Items {
		items[i] = &out.Items[i]
	}
	return items, nil
}

// Get returns one node's usage (404 until it reported).
func (n NodeMetricsClient) Get(ctx context.Context, name string) (*api.NodeMetrics, error) {
	var out api.NodeMetrics
	if err := n.c.Do(ctx, http.MethodGet, "/v1/nodemetrics/"+url.PathEscape(name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReportNodeMetrics sends a node's usage report (agents, every metrics
// interval). A node token may report for its own node only.
func (c *Client) ReportNodeMetrics(ctx context.Context, r *api.NodeMetricsReport) error {
	return c.Do(ctx, http.MethodPost, "/v1/nodemetrics/"+url.PathEscape(r.Node), nil, r, nil)
}

func labelQuery(opts ListOptions) url.Values {
	if opts.LabelSelector == "" {
		return nil
	}
	return url.Values{"labelSelector": {opts.LabelSelector}}
}
