//go:build linux

package testbed

import (
	"context"
	"fmt"
)

// CutLink takes the host's cable out: its port on the site's bridge goes
// down, so the host keeps its address and routes but nothing it sends
// arrives anywhere and nothing reaches it (as a machine whose network
// failed, not one that shut down).
func (h *Host) CutLink(ctx context.Context) error {
	if _, err := ip(ctx, "-n", h.Site.Switch.name, "link", "set", h.switchPort(), "down"); err != nil {
		return fmt.Errorf("testbed: cutting the link of host %s: %w", h.Name, err)
	}
	return nil
}

// RestoreLink puts the host's cable back.
func (h *Host) RestoreLink(ctx context.Context) error {
	if _, err := ip(ctx, "-n", h.Site.Switch.name, "link", "set", h.switchPort(), "up"); err != nil {
		return fmt.Errorf("testbed: restoring the link of host %s: %w", h.Name, err)
	}
	return nil
}

// Partition drops every packet between two sites at the router (blackhole
// policy rules both ways: no ICMP error, as a lost network path). Each
// site keeps its own L2 and its paths to other sites. The test process
// sits in the first site, so partitioning the first site from another
// also cuts the test process off from it. Partitioning a pair twice is a
// no-op.
func (tb *Testbed) Partition(ctx context.Context, a, b *Site) error {
	key := pairKey(a, b)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.cuts[key] {
		return nil
	}
	if err := tb.partitionRules(ctx, "add", a, b); err != nil {
		return fmt.Errorf("testbed: partitioning sites %s and %s: %w", a.Name, b.Name, err)
	}
	tb.cuts[key] = true
	return nil
}

// Heal undoes Partition of two sites (a no-op when they are not
// partitioned).
func (tb *Testbed) Heal(ctx context.Context, a, b *Site) error {
	key := pairKey(a, b)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if !tb.cuts[key] {
		return nil
	}
	if err := tb.partitionRules(ctx, "del", a, b); err != nil {
		return fmt.Errorf("testbed: healing sites %s and %s: %w", a.Name, b.Name, err)
	}
	delete(tb.cuts, key)
	return nil
}

func (tb *Testbed) partitionRules(ctx context.Context, verb string, a, b *Site) error {
	if a == b {
		return fmt.Errorf("a site cannot be partitioned from itself")
	}
	r := tb.router.name
	return ipAll(ctx,
		[]string{"-n", r, "rule", verb, "from", a.Subnet.String(), "to", b.Subnet.String(), "blackhole"},
		[]string{"-n", r, "rule", verb, "from", b.Subnet.String(), "to", a.Subnet.String(), "blackhole"},
	)
}

func pairKey(a, b *Site) [2]string {
	if a.Name > b.Name {
		a, b = b, a
	}
	return [2]string{a.Name, b.Name}
}
