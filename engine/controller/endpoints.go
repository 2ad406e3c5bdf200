package controller

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
)

// EndpointsController keeps, for every Service with a selector, an
// Endpoints object of the same name listing the pods behind it: ready pods
// in addresses, unready or terminating ones in notReadyAddresses, so the
// proxy stops sending traffic to a pod the moment it turns unready.
type EndpointsController struct {
	d         Deps
	services  *client.Informer[*api.Service]
	pods      *client.Informer[*api.Pod]
	endpoints *client.Informer[*api.Endpoints]
	runner    *Runner
}

// NewEndpointsController registers the controller's informer handlers.
func NewEndpointsController(d Deps) *EndpointsController {
	d = d.withDefaults()
	c := &EndpointsController{
		d:         d,
		services:  d.Informers.Services(),
		pods:      d.Informers.Pods(),
		endpoints: d.Informers.Endpoints(),
	}
	c.runner = NewRunner("endpoints", d.Config.Workers, d.Log, c.reconcile)
	c.services.AddHandler(Handler[*api.Service](c.runner))
	c.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    func(p *api.Pod) { c.enqueueServicesOf(p, nil) },
		OnUpdate: func(old, p *api.Pod) { c.enqueueServicesOf(p, old) },
		OnDelete: func(p *api.Pod) { c.enqueueServicesOf(p, nil) },
	})
	// A deleted Endpoints object of a live service is written again. Adds
	// and updates are not watched: an Endpoints object without a service
	// may be one a user is about to pair with a selectorless service.
	c.endpoints.AddHandler(client.Handler[*api.Endpoints]{OnDelete: func(e *api.Endpoints) { c.runner.Enqueue(e) }})
	return c
}

// Run reconciles until ctx ends.
func (c *EndpointsController) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	// Endpoints left behind by services deleted while no controller ran.
	for _, e := range c.endpoints.List() {
		if _, ok := c.services.Get(e.Key()); !ok {
			c.runner.Enqueue(e)
		}
	}
	c.runner.Run(ctx)
}

// enqueueServicesOf enqueues every service in the pod's namespace whose
// selector matches the pod's current or previous labels.
func (c *EndpointsController) enqueueServicesOf(p, old *api.Pod) {
	for _, svc := range c.services.ByIndex(IndexNamespace, p.Namespace) {
		if epSelects(svc, p) || old != nil && epSelects(svc, old) {
			c.runner.Enqueue(svc)
		}
	}
}

func (c *EndpointsController) reconcile(ctx context.Context, key string) error {
	ns, name := SplitKey(key)
	svc, ok := c.services.Get(key)
	if !ok {
		err := c.d.Client.Endpoints(ns).Delete(ctx, name)
		if err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("deleting endpoints of deleted service %s: %w", key, err)
		}
		return nil
	}
	if len(svc.Spec.Selector) == 0 {
		return nil // endpoints of a selectorless service are the user's
	}
	want := &api.Endpoints{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, Labels: svc.Labels},
		Subsets:    EndpointSubsetsFor(svc, c.pods.ByIndex(IndexNamespace, ns)),
	}
	cur, exists := c.endpoints.Get(key)
	if !exists {
		_, err := c.d.Client.Endpoints(ns).Create(ctx, want)
		if err == nil {
			return nil
		}
		if !api.IsAlreadyExists(err) {
			return fmt.Errorf("creating endpoints %s: %w", key, err)
		}
		// Created moments ago and not cached yet: compare with the live one.
		if cur, err = c.d.Client.Endpoints(ns).Get(ctx, name); err != nil {
			return fmt.Errorf("reading endpoints %s: %w", key, err)
		}
	}
	if epUpToDate(cur, want) {
		return nil
	}
	up := *cur
	up.Labels, up.Subsets = want.Labels, want.Subsets
	if _, err := c.d.Client.Endpoints(ns).Update(ctx, &up); err != nil {
		return fmt.Errorf("updating endpoints %s: %w", key, err)
	}
	return nil
}

// epSelects reports whether a service with a selector selects the pod.
func epSelects(svc *api.Service, p *api.Pod) bool {
	return len(svc.Spec.Selector) > 0 && svc.Namespace == p.Namespace &&
		labels.SelectorFromSet(labels.Set(svc.Spec.Selector)).Matches(labels.Set(p.Labels))
}

// epUpToDate reports whether the stored endpoints already say what want says.
func epUpToDate(cur, want *api.Endpoints) bool {
	return maps.Equal(cur.Labels, want.Labels) && reflect.DeepEqual(cur.Subsets, want.Subsets)
}

// EndpointSubsetsFor computes the subsets of a service's Endpoints from
// candidate pods (those the selector does not match are skipped). Pods
// without an IP or that have finished are left out; ready pods that are
// not terminating are addresses, the rest notReadyAddresses. Each pod gets
// the service ports its containers resolve (a named targetPort needs a
// container port of that name and protocol), and pods with identical port
// sets share a subset. The result is canonical: the same state always
// gives the same value, so unchanged state never rewrites the object.
func EndpointSubsetsFor(svc *api.Service, pods []*api.Pod) []api.EndpointSubset {
	bySet := map[string]*api.EndpointSubset{}
	for _, p := range pods {
		if !epSelects(svc, p) || p.Status.PodIP == "" || api.IsPodTerminal(p) {
			continue
		}
		ports := epPodPorts(svc, p)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue // the pod serves none of the service's ports
		}
		id := epPortSetID(ports)
		s := bySet[id]
		if s == nil {
			s = &api.EndpointSubset{Ports: ports}
			bySet[id] = s
		}
		addr := api.EndpointAddress{IP: p.Status.PodIP, NodeName: p.Spec.NodeName,
			TargetRef: &api.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
		if api.IsPodReady(p) && p.DeletionTimestamp == nil {
			s.Addresses = append(s.Addresses, addr)
		} else {
			s.NotReadyAddresses = append(s.NotReadyAddresses, addr)
		}
	}
	var out []api.EndpointSubset
	for _, id := range slices.Sorted(maps.Keys(bySet)) {
		s := bySet[id]
		slices.SortFunc(s.Addresses, epCompareAddress)
		slices.SortFunc(s.NotReadyAddresses, epCompareAddress)
		out = append(out, *s)
	}
	return out
}

// epPodPorts resolves every service port against the pod, in canonical order.
func epPodPorts(svc *api.Service, p *api.Pod) []api.EndpointPort {
	var ports []api.EndpointPort
	for _, sp := range svc.Spec.Ports {
		if port, ok := epTargetPort(sp, p); ok {
			ports = append(ports, api.EndpointPort{Name: sp.Name, Port: port, Protocol: epProtocol(sp.Protocol)})
		}
	}
	slices.SortFunc(ports, func(a, b api.EndpointPort) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
	})
	return ports
}

// epTargetPort resolves a service port's targetPort on one pod: a number
// is used as is (the port itself when unset), a name must match a
// container port with that name and the service port's protocol.
func epTargetPort(sp api.ServicePort, p *api.Pod) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.IsZero():
		return sp.Port, true
	case !tp.IsString:
		return tp.IntVal, true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal && epProtocol(cp.Protocol) == epProtocol(sp.Protocol) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

func epProtocol(p api.Protocol) api.Protocol { return cmp.Or(p, api.ProtocolTCP) }

// epPortSetID names a canonical port set, to group pods by it.
func epPortSetID(ports []api.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(p.Name + "/" + strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol) + ",")
	}
	return b.String()
}

func epCompareAddress(a, b api.EndpointAddress) int {
	return cmp.Or(epCompareIP(a.IP, b.IP), cmp.Compare(a.TargetRef.Name, b.TargetRef.Name))
}

// epCompareIP orders addresses numerically (10.0.0.9 before 10.0.0.10,
// IPv4 before IPv6); anything unparsable sorts after them, as text.
func epCompareIP(a, b string) int {
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return ia.Compare(ib)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}
