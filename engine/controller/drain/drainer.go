package drain

import (
	"context"
	"fmt"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
)

// Drainer drains nodes through the API, reading pods and replica sets
// from the shared informers.
type Drainer struct {
	client *client.Client
	pods   *client.Informer[*api.Pod]
	rss    *client.Informer[*api.ReplicaSet]
	nodes  *client.Informer[*api.Node]

	mu     sync.Mutex
	owners map[string][]Owner // node -> owners of the pods it evicted
}

// New builds a Drainer on d's informers (before they start).
func New(d controller.Deps) *Drainer {
	return &Drainer{client: d.Client, pods: d.Informers.Pods(), rss: d.Informers.ReplicaSets(), nodes: d.Informers.Nodes(), owners: map[string][]Owner{}}
}

// Pods returns the pods bound to node (for handlers keyed by node).
func (d *Drainer) Pods(node string) []*api.Pod { return d.pods.ByIndex(controller.IndexNodeName, node) }

// Step cordons node and runs one drain pass: it evicts what Plan says and
// reports what is left to wait for.
func (d *Drainer) Step(ctx context.Context, node *api.Node) (Step, error) {
	if err := d.cordon(ctx, node); err != nil {
		return Step{}, err
	}
	d.mu.Lock()
	owners := d.owners[node.Name]
	d.mu.Unlock()
	s := Plan(d.Pods(node.Name), owners, d.canMove(node.Name), func(o Owner) bool { return d.runsElsewhere(o, node.Name) })
	d.mu.Lock()
	d.owners[node.Name] = s.Owners
	d.mu.Unlock()
	for _, p := range s.Evict {
		err := d.client.Pods(p.Namespace).Delete(ctx, p.Name, client.DeleteOptions{GracePeriodSeconds: p.Spec.TerminationGracePeriodSeconds})
		if err != nil && !api.IsNotFound(err) {
			return s, fmt.Errorf("evicting pod %s from node %s: %w", p.Key(), node.Name, err)
		}
	}
	return s, nil
}

// Forget drops what the drain of node remembers (it is finished or its
// node is gone).
func (d *Drainer) Forget(node string) {
	d.mu.Lock()
	delete(d.owners, node)
	d.mu.Unlock()
}

// cordon marks the node unschedulable, so nothing new lands on it.
func (d *Drainer) cordon(ctx context.Context, node *api.Node) error {
	if node.Spec.Unschedulable {
		return nil
	}
	up := *node
	up.Spec.Unschedulable = true
	if _, err := d.client.Nodes().Update(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("cordoning node %s: %w", node.Name, err)
	}
	return nil
}

// canMove reports whether a node other than node takes pods: Ready and
// not cordoned.
func (d *Drainer) canMove(node string) bool {
	for _, n := range d.nodes.List() {
		if n.Name != node && !n.Spec.Unschedulable && n.DeletionTimestamp == nil && api.IsNodeReady(n) {
			return true
		}
	}
	return false
}

// runsElsewhere reports whether owner's pods are back: a replica set has
// as many Ready pods off node (not being deleted) as it wants. An owner
// that is gone, or of a kind this drain cannot count, does not hold the
// drain.
func (d *Drainer) runsElsewhere(o Owner, node string) bool {
	if o.Kind != "ReplicaSet" {
		return true
	}
	rs, ok := d.rss.Get(api.Key(o.Namespace, o.Name))
	if !ok || rs.UID != o.UID || rs.DeletionTimestamp != nil {
		return true
	}
	want := int32(1)
	if rs.Spec.Replicas != nil {
		want = *rs.Spec.Replicas
	}
	var ready int32
	for _, p := range d.pods.ByIndex(controller.IndexOwnerUID, o.UID) {
		if p.Spec.NodeName != node && p.DeletionTimestamp == nil && api.IsPodReady(p) {
			ready++
		}
	}
	return ready >= want
}
