package scheduler

import (
	"math/bits"
)

// Reason names why a filter rejected a node. Every filter rejects with one
// of these constants, so "why is my pod pending" is always answered from
// data, and the failure message counts nodes per reason.
type Reason uint8

// Rejection reasons, one or more per filter. The texts follow Kubernetes'
// wording so that people who know its messages recognise ours.
const (
	ReasonNodeNotReady Reason = iota
	ReasonNodeUnschedulable
	ReasonTaints
	ReasonNodeAffinity
	ReasonInsufficientCPU
	ReasonInsufficientMemory
	ReasonTooManyPods
	ReasonHostPorts
	ReasonPodAffinity
	ReasonPodAntiAffinity
	ReasonTopologySpread
	ReasonVolume
	ReasonNetworkUnavailable
	numReasons
)

var reasonText = [numReasons]string{
	ReasonNodeNotReady:       "node(s) were not ready",
	ReasonNodeUnschedulable:  "node(s) were unschedulable",
	ReasonTaints:             "node(s) had untolerated taint(s)",
	ReasonNodeAffinity:       "node(s) didn't match Pod's node affinity/selector",
	ReasonInsufficientCPU:    "insufficient cpu",
	ReasonInsufficientMemory: "insufficient memory",
	ReasonTooManyPods:        "too many pods",
	ReasonHostPorts:          "node(s) didn't have free ports for the requested pod ports",
	ReasonPodAffinity:        "node(s) didn't match pod affinity rules",
	ReasonPodAntiAffinity:    "node(s) didn't match pod anti-affinity rules",
	ReasonTopologySpread:     "node(s) didn't match pod topology spread constraints",
	ReasonVolume:             "node(s) can't use the pod's volumes",
	ReasonNetworkUnavailable: "node(s) had no pod network",
}

// String is the reason as it appears in failure messages.
func (r Reason) String() string {
	if r < numReasons {
		return reasonText[r]
	}
	return "unknown reason"
}

// Status is a filter's verdict on one node. The zero Status means the node
// fits; otherwise Status is the set of reasons it does not. It is a bit set
// rather than a struct with a slice so that returning a rejection from the
// per-node loop allocates nothing, and so a node short of both cpu and
// memory can say so in one value.
//
// "Does not fit" is a Status (and, over all nodes, a Diagnosis); an
// internal failure (a pod whose terms do not compile, a binding the API
// refused) is an error and travels separately. The two never share a
// channel.
type Status uint32

// Reject returns the Status that rejects a node for r.
func Reject(r Reason) Status { return 1 << r }

// With adds a reason to s.
func (s Status) With(r Reason) Status { return s | 1<<r }

// Fits reports whether the node passed.
func (s Status) Fits() bool { return s == 0 }

// Has reports whether r is one of the reasons.
func (s Status) Has(r Reason) bool { return s&(1<<r) != 0 }

// Reasons lists the reasons in constant order.
func (s Status) Reasons() []Reason {
	out := make([]Reason, 0, bits.OnesCount32(uint32(s)))
	for r := Reason(0); r < numReasons; r++ {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// Filter decides whether a node can run the pod described by the cycle
// state. Filters read only the state and the node: everything that depends
// on the pod alone was computed once, in PreFilter.
type Filter interface {
	Filter(s *CycleState, n *NodeInfo) Status
}

// Scorer rates a feasible node for the pod: higher is better. Raw scores
// are normalized by the pipeline (see normalization) before weighting.
type Scorer interface {
	Score(s *CycleState, n *NodeInfo) int64
}

// MaxNodeScore is the top of the normalized score range.
const MaxNodeScore = 100

// normalization says how a scorer's raw values become 0..MaxNodeScore.
type normalization uint8

const (
	// absolute: the raw score already is 0..MaxNodeScore and means the same
	// on every node (a share of free capacity). Stretching it over the
	// feasible nodes would let a 1% difference in free memory outvote a
	// whole replica of spread.
	absolute normalization = iota
	// relative: raw scores are counts or weight sums whose scale depends on
	// the pod; they are mapped linearly so the worst feasible node gets 0
	// and the best MaxNodeScore (all 0 when every node scores the same).
	relative
)

// filterStage is one filter in the pipeline with the test that leaves it
// out for pods it has nothing to say about (no ports, no affinity...), so
// the per-node loop only calls filters that can reject.
type filterStage struct {
	name   string
	filter Filter
	skip   func(*CycleState) bool
}

// scoreStage is one scorer with its weight, normalization and skip test.
type scoreStage struct {
	name   string
	scorer Scorer
	weight int64
	norm   normalization
	skip   func(*CycleState) bool
}

func never(*CycleState) bool { return false }
