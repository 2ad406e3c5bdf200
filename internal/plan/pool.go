package plan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// poolImpact says what a node pool change does to its machines: how many
// are created, replaced (each drained first) or drained and deleted. The
// machine template is the node pool controller's (nodepool.TemplateHash);
// a pool the cluster autoscaler sizes keeps its live size.
func poolImpact(c *Change) []string {
	prior, planned := poolSpec(c.Live, c.Before), poolSpec(c.Desired, c.After)
	switch c.Action {
	case Create:
		if n := PoolSize(planned); n > 0 {
			return []string{"create " + machines(n)}
		}
		return []string{"no machines yet (size 0)"}
	case Delete:
		if n := PoolSize(prior); n > 0 {
			return []string{"drain and delete " + machines(n)}
		}
		return nil
	case Replace:
		return []string{fmt.Sprintf("drain and delete %s, then create %s", machines(PoolSize(prior)), machines(PoolSize(planned)))}
	case Update:
	default:
		return nil
	}
	before, after := PoolSize(prior), PoolSize(planned)
	if planned.Autoscaling {
		after = before // the cluster autoscaler owns the size
	}
	var lines []string
	if changed := poolTemplateChanges(c, prior, planned); len(changed) > 0 && min(before, after) > 0 {
		lines = append(lines, fmt.Sprintf("replace %s (drain first), %s (template changed: %s)",
			machines(min(before, after)), replaceStep(planned, after), strings.Join(changed, ", ")))
	}
	switch {
	case after > before:
		lines = append(lines, "create "+machines(after-before))
	case after < before:
		lines = append(lines, "drain and delete "+machines(before-after))
	}
	return lines
}

// poolTemplateChanges: with both API objects at hand, the controller's
// template hash decides (TemplateChanges); from attribute trees alone (a
// Terraform plan), a change to any template attribute does.
func poolTemplateChanges(c *Change, prior, planned *api.NodePoolSpec) []string {
	if _, ok := c.Live.(*api.NodePool); ok {
		if _, ok := c.Desired.(*api.NodePool); ok {
			return TemplateChanges(prior, planned)
		}
	}
	return treeTemplateChanges(c.Before, c.After)
}

// poolTemplateAttrs are the node pool attributes that make up the machine
// template (see nodepool.TemplateHash): an ssh pool's host list is not.
var poolTemplateAttrs = []string{"local", "ssh", "aws", "gcp", "machine_type", "zones", "labels", "taint", "spot"}

// replaceStep says how many machines a rollout replaces at once.
func replaceStep(s *api.NodePoolSpec, size int) string {
	surge, unavailable := 1, 0
	if v := s.Rollout.MaxSurge; v != nil {
		surge, _ = v.ScaledValue(size, true)
	}
	if v := s.Rollout.MaxUnavailable; v != nil {
		unavailable, _ = v.ScaledValue(size, false)
	}
	if step := max(surge+unavailable, 1); step > 1 {
		return fmt.Sprintf("up to %d at a time", step)
	}
	return "one at a time"
}

// poolSpec is the defaulted spec of a pool object, or one read from an
// attribute tree; never nil.
func poolSpec(obj api.Object, tree map[string]any) *api.NodePoolSpec {
	if p, ok := obj.(*api.NodePool); ok {
		cp := copyObject(p)
		api.Default(cp)
		return &cp.Spec
	}
	return &NodePoolFromAttrs(tree).Spec
}

// PoolSize is a defaulted spec's size: its size, else its minimum.
func PoolSize(s *api.NodePoolSpec) int {
	if s.Size != nil {
		return int(*s.Size)
	}
	return int(s.MinSize)
}

// copyObject deep-copies an API object through its JSON (Default works in
// place, and Compute must not change its inputs).
func copyObject[T api.Object](obj T) T {
	b, err := json.Marshal(obj)
	if err != nil {
		return obj
	}
	out := api.KindOf(obj).New().(T)
	if json.Unmarshal(b, out) != nil {
		return obj
	}
	return out
}
