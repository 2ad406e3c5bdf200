package client

import "github.com/maestro-dev/maestro/engine/api"

// Typed accessors for every kind.

func (c *Client) Namespaces() Resource[*api.Namespace] { return For[*api.Namespace](c, "") }
func (c *Client) Nodes() Resource[*api.Node]           { return For[*api.Node](c, "") }
func (c *Client) NodePools() Resource[*api.NodePool]   { return For[*api.NodePool](c, "") }
func (c *Client) Machines() Resource[*api.Machine]     { return For[*api.Machine](c, "") }
func (c *Client) Pods(ns string) Resource[*api.Pod]    { return For[*api.Pod](c, ns) }
func (c *Client) ReplicaSets(ns string) Resource[*api.ReplicaSet] {
	return For[*api.ReplicaSet](c, ns)
}
func (c *Client) Deployments(ns string) Resource[*api.Deployment] {
	return For[*api.Deployment](c, ns)
}
func (c *Client) Services(ns string) Resource[*api.Service]     { return For[*api.Service](c, ns) }
func (c *Client) Endpoints(ns string) Resource[*api.Endpoints]  { return For[*api.Endpoints](c, ns) }
func (c *Client) ConfigMaps(ns string) Resource[*api.ConfigMap] { return For[*api.ConfigMap](c, ns) }
func (c *Client) Secrets(ns string) Resource[*api.Secret]       { return For[*api.Secret](c, ns) }
func (c *Client) Autoscalers(ns string) Resource[*api.Autoscaler] {
	return For[*api.Autoscaler](c, ns)
}
func (c *Client) Volumes(ns string) Resource[*api.PersistentVolume] {
	return For[*api.PersistentVolume](c, ns)
}
func (c *Client) Events(ns string) Resource[*api.Event] { return For[*api.Event](c, ns) }
