package drain

import (
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// Owner is the controller of an evicted pod.
type Owner struct {
	Namespace, Kind, Name, UID string
}

func (o Owner) String() string { return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name) }

// Step is one drain pass.
type Step struct {
	// Evict are pods to delete now, with their grace period.
	Evict []*api.Pod
	// Skipped are daemon-like pods left on the node.
	Skipped []string
	// Waiting says what the drain still waits for (pods terminating,
	// owners whose pods do not run elsewhere yet); empty when Done.
	Waiting []string
	// Owners are the owners to keep waiting for: the ones given and those
	// of the pods evicted now.
	Owners []Owner
	Done   bool
}

// daemonKinds are controllers whose pods belong to the node itself.
var daemonKinds = []string{"DaemonSet", "Node"}

// Plan decides one drain pass over the pods bound to a node. owners are
// the owners of pods evicted by earlier passes; runsElsewhere reports
// whether an owner's pods are back (Ready, on other nodes). canMove says
// whether any other node takes pods (Ready, not cordoned): when none does
// (the last machines of a pool going), replacements cannot come up, and
// the drain only waits for the evicted pods to be gone.
func Plan(pods []*api.Pod, owners []Owner, canMove bool, runsElsewhere func(Owner) bool) Step {
	s := Step{Owners: slices.Clone(owners)}
	addOwner := func(p *api.Pod) {
		ref := p.ControllerRef()
		if ref == nil {
			return
		}
		o := Owner{Namespace: p.Namespace, Kind: ref.Kind, Name: ref.Name, UID: ref.UID}
		if !slices.Contains(s.Owners, o) {
			s.Owners = append(s.Owners, o)
		}
	}
	for _, p := range pods {
		ref := p.ControllerRef()
		switch {
		case ref != nil && slices.Contains(daemonKinds, ref.Kind):
			s.Skipped = append(s.Skipped, p.Key())
		case api.IsPodTerminal(p):
			if p.DeletionTimestamp == nil {
				s.Evict = append(s.Evict, p)
			}
		case p.DeletionTimestamp != nil:
			s.Waiting = append(s.Waiting, "pod "+p.Key()+" terminating")
			addOwner(p)
		default:
			s.Evict = append(s.Evict, p)
			s.Waiting = append(s.Waiting, "pod "+p.Key()+" evicted")
			addOwner(p)
		}
	}
	for _, o := range s.Owners {
		if canMove && !runsElsewhere(o) {
			s.Waiting = append(s.Waiting, o.String()+" not Ready elsewhere yet")
		}
	}
	s.Done = len(s.Waiting) == 0
	return s
}
