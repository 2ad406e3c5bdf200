package controller

import (
	"context"
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// ServiceController publishes where LoadBalancer services are reached:
// every node forwards a service's node ports, so status.loadBalancer.ingress
// lists the InternalIP of each Ready node, sorted. Other types have no
// ingress. The status is written (through /status) only when it changes.
type ServiceController struct {
	d        Deps
	services *client.Informer[*api.Service]
	nodes    *client.Informer[*api.Node]
	runner   *Runner
}

// NewServiceController registers the controller's informer handlers.
func NewServiceController(d Deps) *ServiceController {
	d = d.withDefaults()
	c := &ServiceController{d: d, services: d.Informers.Services(), nodes: d.Informers.Nodes()}
	c.runner = NewRunner("service", d.Config.Workers, d.Log, c.reconcile)
	c.services.AddHandler(client.Handler[*api.Service]{
		OnAdd:    func(s *api.Service) { c.runner.Enqueue(s) },
		OnUpdate: func(_, s *api.Service) { c.runner.Enqueue(s) },
	})
	// Heartbeats update nodes every few seconds; only a change of
	// readiness or address can change an ingress list.
	c.nodes.AddHandler(client.Handler[*api.Node]{
		OnAdd: func(n *api.Node) {
			if lbNodeAddress(n) != "" {
				c.enqueueLoadBalancers()
			}
		},
		OnUpdate: func(old, n *api.Node) {
			if lbNodeAddress(old) != lbNodeAddress(n) {
				c.enqueueLoadBalancers()
			}
		},
		OnDelete: func(n *api.Node) {
			if lbNodeAddress(n) != "" {
				c.enqueueLoadBalancers()
			}
		},
	})
	return c
}

// Run reconciles until ctx ends.
func (c *ServiceController) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	c.runner.Run(ctx)
}

func (c *ServiceController) enqueueLoadBalancers() {
	for _, s := range c.services.List() {
		if s.Spec.Type == api.ServiceTypeLoadBalancer {
			c.runner.Enqueue(s)
		}
	}
}

func (c *ServiceController) reconcile(ctx context.Context, key string) error {
	svc, ok := c.services.Get(key)
	if !ok {
		return nil // a deleted service has no status to keep
	}
	want := lbIngressFor(svc, c.nodes.List())
	if slices.Equal(svc.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	up := *svc // the cached object is shared: change a copy
	up.Status.LoadBalancer.Ingress = want
	if _, err := c.d.Client.Services(svc.Namespace).UpdateStatus(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("updating the load balancer status of service %s: %w", key, err)
	}
	return nil
}

// lbIngressFor is the ingress a service should report: for a
// LoadBalancer, the distinct addresses of Ready nodes in numeric order;
// for other types, none.
func lbIngressFor(svc *api.Service, nodes []*api.Node) []api.LoadBalancerIngress {
	if svc.Spec.Type != api.ServiceTypeLoadBalancer {
		return nil
	}
	var addrs []string
	for _, n := range nodes {
		if a := lbNodeAddress(n); a != "" {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, epCompareIP)
	addrs = slices.Compact(addrs)
	var out []api.LoadBalancerIngress
	for _, a := range addrs {
		out = append(out, api.LoadBalancerIngress{IP: a})
	}
	return out
}

// lbNodeAddress is the address a node takes load balancer traffic on:
// its InternalIP while it is Ready, else "".
func lbNodeAddress(n *api.Node) string {
	if !api.IsNodeReady(n) {
		return ""
	}
	return api.NodeAddressOf(n, api.NodeInternalIP)
}
