package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// Assess fills each change's Impact (what it does to running pods and
// machines) and adds the plan-wide placement lines from opt.Previews.
// Compute calls it; so does a reader of a Terraform plan, whose changes
// carry objects made from the attribute trees (DeploymentFromAttrs).
func Assess(p *Plan, opt Options) {
	for i := range p.Changes {
		c := &p.Changes[i]
		c.Impact = ChangeImpact(c, opt.Autoscaled[c.Address])
	}
	p.Impact = append(p.Impact, placement(p, opt.Previews)...)
}

// ChangeImpact says what one change does to running pods and machines
// (nil when nothing): Assess's rule for each change, and what the
// Terraform provider shows as a plan warning. autoscaled says an
// autoscaler owns a deployment's replicas.
func ChangeImpact(c *Change, autoscaled bool) []string {
	switch c.Kind {
	case "Deployment":
		return deploymentImpact(c, autoscaled)
	case "Pod":
		return podImpact(c)
	case "NodePool":
		return poolImpact(c)
	case "Namespace":
		if c.Action == Delete || c.Action == Replace {
			return []string{"deletes every object in namespace " + c.Name}
		}
	}
	return nil
}

// deploymentImpact: pods started, stopped, rolled or scaled.
func deploymentImpact(c *Change, autoscaled bool) []string {
	d, _ := c.Desired.(*api.Deployment)
	if d == nil && c.After != nil {
		d = DeploymentFromAttrs(c.After)
	}
	l, _ := c.Live.(*api.Deployment)
	if l == nil && c.Before != nil {
		l = DeploymentFromAttrs(c.Before)
	}
	switch c.Action {
	case Create:
		return []string{"starts " + pods(replicas(d, c.After, 1))}
	case Delete:
		return []string{"stops " + pods(replicas(l, c.Before, 1))}
	case Replace:
		return []string{fmt.Sprintf("replaced: stops %s, then starts %s", pods(replicas(l, c.Before, 1)), pods(replicas(d, c.After, 1)))}
	case Update:
	default:
		return nil
	}
	before := replicas(l, c.Before, 1)
	after := replicas(d, c.After, before) // left out: the live count stays
	var lines []string
	if autoscaled && after != before {
		// Compute has already kept the live count in After; a Terraform
		// plan keeps the configured one, which the apply does not write.
		lines = append(lines, fmt.Sprintf("replicas (%d) left to the autoscaler: the live count is not changed", after))
	}
	if autoscaled {
		after = before
	}
	if changedUnder(c, "spec.template") && after > 0 {
		lines = append(lines, rolloutLine(d, after))
	}
	if before != after {
		lines = append(lines, fmt.Sprintf("scale from %d to %d", before, after))
	}
	return lines
}

// rolloutLine says how a template change replaces n pods under d's strategy.
func rolloutLine(d *api.Deployment, n int) string {
	if d != nil && d.Spec.Strategy.Type == api.RecreateStrategy {
		return fmt.Sprintf("recreate %s (all stop before the new ones start)", pods(n))
	}
	surge, unavailable := RollingBounds(d, n)
	return fmt.Sprintf("rolling update of %s (max surge %d, max unavailable %d)", pods(n), surge, unavailable)
}

// RollingBounds resolves a rolling update's max surge and max unavailable
// for n replicas as the deployment controller does (as Kubernetes does):
// 25% each when unset, percentages of n with surge rounded up and
// unavailability rounded down, and unavailability 1 when both come to 0.
func RollingBounds(d *api.Deployment, n int) (surge, unavailable int) {
	def := api.FromString("25%")
	maxSurge, maxUnavailable := def, def
	if d != nil && d.Spec.Strategy.RollingUpdate != nil {
		ru := d.Spec.Strategy.RollingUpdate
		maxSurge, maxUnavailable = api.Deref(ru.MaxSurge, def), api.Deref(ru.MaxUnavailable, def)
	}
	surge, _ = maxSurge.ScaledValue(n, true)              // validation refuses malformed values
	unavailable, _ = maxUnavailable.ScaledValue(n, false) // (0 then)
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable
}

// replicas is a deployment's pod count: as its tree says (what the
// reviewer reads), else its object, else def.
func replicas(d *api.Deployment, tree map[string]any, def int) int {
	if n, ok := Int(Lookup(tree, "spec.replicas")); ok {
		return int(n)
	}
	if d != nil && d.Spec.Replicas != nil {
		return int(*d.Spec.Replicas)
	}
	return def
}

// podImpact: a pod's spec cannot change in place; maestro replaces it.
func podImpact(c *Change) []string {
	switch c.Action {
	case Create:
		return []string{"starts 1 pod"}
	case Delete:
		return []string{"stops 1 pod"}
	case Replace:
		return []string{"replace pod (restart)"}
	case Update:
		if images := imagesOnly(c); len(images) > 0 {
			return []string{"restart " + count(len(images), "container") + " with the new image (" + strings.Join(images, ", ") + ")"}
		}
		if changedUnder(c, "spec") {
			return []string{"replace pod (restart)"}
		}
	}
	return nil
}

// imagesOnly names the containers of a pod change that changes nothing
// but container images (the one change a running pod takes in place: the
// container restarts with the new image); nil otherwise.
func imagesOnly(c *Change) []string {
	var names []string
	for _, p := range Changed(c.Before, c.After) {
		if AttrPath(p) != "spec.container.image" {
			return nil
		}
		name, _ := LookupIndexed(c.After, strings.TrimSuffix(p, ".image")+".name").(string)
		names = append(names, name)
	}
	return names
}

// changedUnder reports whether the change touches anything at or under
// the attribute path.
func changedUnder(c *Change, attrPath string) bool {
	return slices.ContainsFunc(Changed(c.Before, c.After), func(p string) bool {
		ap := AttrPath(p)
		return Under(ap, attrPath) || Under(attrPath, ap)
	})
}

// placement turns the dry-run previews of changed workloads into lines:
// pods that would not fit (with the scheduler's reason) and where the
// others would go.
func placement(p *Plan, previews map[string]api.PlacementPreview) []string {
	var lines []string
	for _, c := range p.Changes {
		prev, ok := previews[c.Address]
		if !ok || c.Action == NoOp || c.Action == Delete || prev.Pods == 0 {
			continue
		}
		if prev.Placed < prev.Pods {
			reason := strings.TrimSuffix(prev.Reason, ".")
			if reason == "" {
				reason = "no node has room"
			}
			lines = append(lines, fmt.Sprintf("%d of %d pods of %s would not fit: %s", prev.Pods-prev.Placed, prev.Pods, c.Address, reason))
		}
		if len(prev.Nodes) > 0 {
			parts := make([]string, 0, len(prev.Nodes))
			for _, n := range slices.Sorted(maps.Keys(prev.Nodes)) {
				parts = append(parts, fmt.Sprintf("%s (%d)", n, prev.Nodes[n]))
			}
			lines = append(lines, fmt.Sprintf("pods of %s would go to %s", c.Address, strings.Join(parts, ", ")))
		}
	}
	return lines
}

// pods is "1 pod" or "n pods".
func pods(n int) string { return count(n, "pod") }

// machines is "1 machine" or "n machines".
func machines(n int) string { return count(n, "machine") }

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
