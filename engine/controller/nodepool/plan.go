package nodepool

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// MachineState is what the planner knows of one machine of the pool.
type MachineState struct {
	Name string
	Zone string
	Host string
	// Hash is the machine's template hash (api.LabelTemplateHash).
	Hash string
	// Running: phase Running; Ready: Running with a Ready node.
	Running, Ready bool
	// Deleting: marked for deletion (draining or being released).
	Deleting bool
	// Failed: phase Failed, or its cloud refuses it; Message says why and
	// Reason is the machine's (its Provisioned condition's reason when the
	// cloud refuses it: CloudError, QuotaExceeded, ...).
	Failed  bool
	Message string
	Reason  string
	// Marked: the cluster autoscaler named it for the next scale-down
	// (api.AnnotationDeleteMachine).
	Marked bool
	// Pods is the number of pods on its node that have not finished.
	Pods    int
	Created time.Time
}

// Input is a pool's desired state and its machines.
type Input struct {
	Size int
	// Hash is the current template's hash.
	Hash  string
	Zones []string
	// Hosts are an ssh pool's hosts (nil for providers that make machines).
	Hosts          []string
	SSH            bool
	MaxSurge       int
	MaxUnavailable int
	Machines       []MachineState
}

// NewMachine is a machine to create.
type NewMachine struct {
	Zone, Host string
}

// Plan is what the pool controller does in one pass.
type Plan struct {
	Create []NewMachine
	// Delete names machines to delete (each is drained first by the
	// machine controller).
	Delete []string
	// MissingHosts is how many machines the pool lacks for want of a free
	// host (ssh).
	MissingHosts int
}

// Compute plans one pass over a pool, as a Deployment's rolling update does
// over pods: without old machines (of an older template, or on an ssh host
// no longer listed: Input.outdated) it scales to Size
// (scale-down removes machines that are not Running first, then those
// with the fewest pods); with them it creates current machines while the
// pool (deleting machines included: they still hold their capacity and
// host) stays within Size+MaxSurge, and deletes old ones while at least
// Size-MaxUnavailable machines stay Ready — old machines that are not
// Ready cost no availability and go at once.
func Compute(in Input) Plan {
	var current, old []MachineState
	deleting, ready := 0, 0
	for _, m := range in.Machines {
		switch {
		case m.Deleting:
			deleting++
			continue
		case !in.outdated(m):
			current = append(current, m)
		default:
			old = append(old, m)
		}
		if m.Ready {
			ready++
		}
	}
	var p Plan
	create := in.Size - len(current)
	if len(old) > 0 {
		create = min(create, in.Size+in.MaxSurge-(len(current)+len(old)+deleting))
		p.Delete = deleteOld(old, ready-(in.Size-in.MaxUnavailable))
	}
	if excess := len(current) - in.Size; excess > 0 {
		p.Delete = append(p.Delete, pickScaleDown(current, excess)...)
	}
	if create > 0 {
		p.Create, p.MissingHosts = placeNew(in, current, create)
	}
	if in.SSH && in.Size > len(in.Hosts) {
		p.MissingHosts = max(p.MissingHosts, in.Size-len(in.Hosts))
	}
	return p
}

// outdated reports whether m is not what the pool asks for now: made
// from another template, or (ssh) on a host the pool no longer lists. It
// is replaced as a template change replaces machines: at once when it is
// not Ready (a machine whose host never answered), otherwise one step at a
// time.
func (in Input) outdated(m MachineState) bool {
	return m.Hash != in.Hash || in.SSH && !slices.Contains(in.Hosts, m.Host)
}

// deleteOld picks the old machines to delete: every one that is not
// Ready, then Ready ones while spare (Ready machines above the minimum)
// lasts.
func deleteOld(old []MachineState, spare int) []string {
	var out []string
	var readyOld []MachineState
	for _, m := range old {
		if m.Ready {
			readyOld = append(readyOld, m)
		} else {
			out = append(out, m.Name)
		}
	}
	if spare > 0 {
		out = append(out, pickScaleDown(readyOld, min(spare, len(readyOld)))...)
	}
	return out
}

// pickScaleDown chooses n machines to delete: marked by the cluster
// autoscaler first (it checked that their pods fit elsewhere), not Running before Running,
// not Ready before Ready, fewest pods, from the zone holding most of the
// remaining machines (so the spread stays even), newest, then by name.
func pickScaleDown(ms []MachineState, n int) []string {
	left := slices.Clone(ms)
	var out []string
	for range min(n, len(left)) {
		perZone := map[string]int{}
		for _, m := range left {
			perZone[m.Zone]++
		}
		best := slices.MinFunc(left, func(a, b MachineState) int {
			return cmp.Or(
				boolOrder(b.Marked, a.Marked),
				boolOrder(a.Running, b.Running), boolOrder(a.Ready, b.Ready),
				cmp.Compare(a.Pods, b.Pods),
				cmp.Compare(perZone[b.Zone], perZone[a.Zone]),
				b.Created.Compare(a.Created),
				cmp.Compare(a.Name, b.Name))
		})
		out = append(out, best.Name)
		left = slices.DeleteFunc(left, func(m MachineState) bool { return m.Name == best.Name })
	}
	return out
}

// boolOrder sorts false before true.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// placeNew gives n new machines their zones (the zone with the fewest
// current machines, in the pool's order on ties) and, in ssh pools, a
// host no other machine of the pool holds (deleting ones included). It
// returns the machines it could place and how many it could not.
func placeNew(in Input, current []MachineState, n int) ([]NewMachine, int) {
	var free []string
	if in.SSH {
		used := map[string]bool{}
		for _, m := range in.Machines {
			used[m.Host] = true
		}
		for _, h := range in.Hosts {
			if !used[h] {
				free = append(free, h)
				used[h] = true // listed twice: one machine
			}
		}
	}
	perZone := map[string]int{}
	for _, m := range current {
		perZone[m.Zone]++
	}
	var out []NewMachine
	for i := range n {
		var nm NewMachine
		if in.SSH {
			if i >= len(free) {
				return out, n - i
			}
			nm.Host = free[i]
		}
		if len(in.Zones) > 0 {
			nm.Zone = slices.MinFunc(in.Zones, func(a, b string) int { return cmp.Compare(perZone[a], perZone[b]) })
			perZone[nm.Zone]++
		}
		out = append(out, nm)
	}
	return out, 0
}

// refusedForGood reports whether a cloud refused a machine for a reason
// only a person can fix.
func refusedForGood(reason string) bool {
	switch reason {
	case api.ReasonQuotaExceeded, api.ReasonPermissionDenied, api.ReasonInvalidRequest:
		return true
	}
	return false
}

// Status is a pool's observed counts and its Ready condition.
type Status struct {
	Machines, Ready, Updated int
	Condition                api.Condition
}

// ComputeStatus summarizes a pool's machines against its plan: Ready is
// True when Size machines of the current template run with Ready nodes
// and nothing else is left; otherwise the reason says what is going on,
// the most pressing first.
func ComputeStatus(in Input, p Plan) Status {
	var s Status
	var failed *MachineState
	old := 0
	for i, m := range in.Machines {
		if m.Deleting {
			continue
		}
		s.Machines++
		if m.Ready {
			s.Ready++
		}
		if in.outdated(m) {
			old++
		} else {
			s.Updated++
		}
		if m.Failed && failed == nil && !slices.Contains(p.Delete, m.Name) { // being replaced: no failure
			failed = &in.Machines[i]
		}
	}
	deleting := len(in.Machines) - s.Machines
	c := api.Condition{Type: api.NodePoolReady, Status: api.ConditionFalse}
	switch {
	case p.MissingHosts > 0:
		c.Reason = api.ReasonNotEnoughHosts
		c.Message = fmt.Sprintf("size %d needs %d more host(s) than the pool's %d free or used ones (spec.ssh.hosts)", in.Size, p.MissingHosts, len(in.Hosts))
	case failed != nil:
		c.Reason = api.ReasonMachineFailed
		if refusedForGood(failed.Reason) {
			c.Reason = failed.Reason // the pool says what the cloud said: QuotaExceeded, ...
		}
		c.Message = fmt.Sprintf("machine %s: %s", failed.Name, failed.Message)
	case old > 0:
		c.Reason = api.ReasonRollingOut
		c.Message = fmt.Sprintf("%d of %d machines on the current template, %d old left", s.Updated, in.Size, old)
	case s.Machines > in.Size || deleting > 0 && s.Machines == in.Size && s.Ready == in.Size:
		c.Reason = api.ReasonScalingDown
		c.Message = fmt.Sprintf("%d machines, %d wanted; %d being deleted", s.Machines, in.Size, deleting)
	case s.Ready < in.Size || s.Machines < in.Size:
		c.Reason = api.ReasonScalingUp
		c.Message = fmt.Sprintf("%d of %d machines Ready", s.Ready, in.Size)
	default:
		c.Status, c.Reason = api.ConditionTrue, api.ReasonPoolReady
		c.Message = fmt.Sprintf("%d machines Ready", s.Ready)
	}
	s.Condition = c
	return s
}
