package scheduler

import (
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
)

// previewSeed makes previews reproducible: the same cluster and pods give
// the same placements, so a plan does not show a different node on every
// run.
const previewSeed = 0x6d61657374726f

// Placement is where Preview would put one pod.
type Placement struct {
	Pod  string // namespace/name
	Node string // "" when the pod fits nowhere
	// Reason is the counted failure message when Node is "".
	Reason string
}

// Preview answers "where would these pods go?" with the default pipeline.
// See Pipeline.Preview.
func Preview(snap *Snapshot, pods []*api.Pod) []Placement {
	p, err := NewPipeline(PipelineConfig{Seed: previewSeed})
	if err != nil {
		panic(err) // the default configuration is valid
	}
	return p.Preview(snap, pods)
}

// Preview schedules pods, in order, on a private copy of snap without
// binding anything: each placed pod is assumed on the copy, so later pods
// see the space and the spread it takes. A pod that already names a node
// is counted there as given. snap itself is not changed.
func (p *Pipeline) Preview(snap *Snapshot, pods []*api.Pod) []Placement {
	view := snap.previewCopy()
	out := make([]Placement, 0, len(pods))
	for _, pod := range pods {
		pl := Placement{Pod: pod.Key()}
		pi, err := NewPodInfo(pod)
		switch {
		case err != nil:
			pl.Reason = fmt.Sprintf("invalid scheduling terms: %v", err)
		case pod.Spec.NodeName != "":
			if err := view.place(pi, pod.Spec.NodeName); err != nil {
				pl.Reason = err.Error()
			} else {
				pl.Node = pod.Spec.NodeName
			}
		default:
			res := p.Schedule(view, pi)
			if !res.Fits() {
				pl.Reason = res.Diagnosis.Message()
				break
			}
			if err := view.place(pi, res.Node); err != nil {
				pl.Reason = err.Error()
				break
			}
			pl.Node = res.Node
		}
		out = append(out, pl)
	}
	return out
}
