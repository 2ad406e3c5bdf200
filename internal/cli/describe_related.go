package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
)

// describeRelated reads, for a kind, the objects its description lists
// beside it, as get would show them: a pool's machines, a machine's node,
// a node's pods (what a drain moves), a deployment's replica sets, a
// replica set's pods.
var describeRelated = map[string]func(ctx context.Context, c *client.Client, o api.Object) []describeTable{
	"NodePool": func(ctx context.Context, c *client.Client, o api.Object) []describeTable {
		machines, _, err := c.Machines().List(ctx, client.ListOptions{FieldSelector: "spec.pool=" + o.GetObjectMeta().Name})
		return []describeTable{asTable("Pool Machines", machineColumns, err, false, machines...)}
	},
	"Machine": func(ctx context.Context, c *client.Client, o api.Object) []describeTable {
		name := o.(*api.Machine).Status.NodeName
		if name == "" {
			return []describeTable{asTable[*api.Node]("Machine Node", tables["Node"], nil, false)}
		}
		n, err := c.Nodes().Get(ctx, name)
		if err != nil {
			return []describeTable{asTable[*api.Node]("Machine Node", tables["Node"], err, false)}
		}
		return []describeTable{asTable("Machine Node", tables["Node"], nil, false, n)}
	},
	"Deployment": func(ctx context.Context, c *client.Client, o api.Object) []describeTable {
		d := o.(*api.Deployment)
		return []describeTable{ownedBy(ctx, c.ReplicaSets(d.Namespace), "Replica Sets", d.Spec.Selector, &d.ObjectMeta)}
	},
	"ReplicaSet": func(ctx context.Context, c *client.Client, o api.Object) []describeTable {
		rs := o.(*api.ReplicaSet)
		return []describeTable{ownedBy(ctx, c.Pods(rs.Namespace), "Pods", rs.Spec.Selector, &rs.ObjectMeta)}
	},
	"Node": func(ctx context.Context, c *client.Client, o api.Object) []describeTable {
		pods, _, err := c.Pods("").List(ctx, client.ListOptions{FieldSelector: "spec.nodeName=" + o.GetObjectMeta().Name})
		running := pods[:0]
		for _, p := range pods {
			if !api.IsPodTerminal(p) {
				running = append(running, p)
			}
		}
		return []describeTable{asTable("Non-terminated Pods", tables["Pod"], err, true, running...), allocated(o.(*api.Node), running, err)}
	},
}

// asTable is objects as rows of a kind's get table, sorted by key.
func asTable[T api.Object](title string, cols columns, err error, withNamespace bool, objs ...T) describeTable {
	t := describeTable{title: title, headers: cols.headers, err: err}
	if withNamespace {
		t.headers = append([]string{"NAMESPACE"}, cols.headers...)
	}
	list := make([]api.Object, len(objs))
	for i, o := range objs {
		list[i] = o
	}
	sortByKey(list)
	for _, o := range list {
		t.rows = append(t.rows, rowOf(cols, o, withNamespace))
	}
	return t
}

// ownedBy lists the objects of a kind in a namespace that match a
// selector and whose controller is owner, as a table of get's rows.
func ownedBy[T api.Object](ctx context.Context, res client.Resource[T], title string, sel *api.LabelSelector, owner *api.ObjectMeta) describeTable {
	cols := columnsOf(res.Kind())
	s, err := api.AsSelector(sel)
	if err != nil {
		return asTable[T](title, cols, err, false)
	}
	list, _, err := res.List(ctx, client.ListOptions{LabelSelector: s.String()})
	owned := list[:0]
	for _, o := range list {
		if ref := o.GetObjectMeta().ControllerRef(); ref != nil && ref.UID == owner.UID {
			owned = append(owned, o)
		}
	}
	return asTable(title, cols, err, false, owned...)
}

// allocated sums the requests of a node's pods against what it can
// allocate, per resource (pods: how many run).
func allocated(n *api.Node, pods []*api.Pod, err error) describeTable {
	t := describeTable{title: "Allocated Resources", headers: []string{"RESOURCE", "REQUESTS", "ALLOCATABLE", "PERCENT"}, err: err}
	total := api.ResourceList{}
	for _, p := range pods {
		for name, q := range api.PodRequests(&p.Spec) {
			sum := total[name]
			sum.Add(q)
			total[name] = sum
		}
	}
	total[api.ResourcePods] = resource.NewQuantity(int64(len(pods)), resource.DecimalSI)
	names := make([]string, 0, len(n.Status.Allocatable))
	for name := range n.Status.Allocatable {
		names = append(names, string(name))
	}
	sort.Strings(names)
	for _, name := range names {
		req, alloc := total[api.ResourceName(name)], n.Status.Allocatable[api.ResourceName(name)]
		pct := "-"
		if alloc.MilliValue() > 0 {
			pct = fmt.Sprintf("%d%%", req.MilliValue()*100/alloc.MilliValue())
		}
		t.rows = append(t.rows, []string{name, req.String(), alloc.String(), pct})
	}
	return t
}
