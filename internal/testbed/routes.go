//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// RouteToTestProcess makes prefix, a network on the test process's side
// (such as the bridge of the local cloud's emulated machines, on link
// iface), reachable from every host: the router sends it to the test
// process's uplink, and the test process forwards between iface and the
// uplink (Docker's FORWARD policy drops everything not accepted). Hosts and
// the machines behind iface then reach each other routed, as two networks
// would, not on one link. Undone when the test ends.
func (tb *Testbed) RouteToTestProcess(prefix netip.Prefix, iface string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ip(ctx, "-n", tb.router.name, "route", "replace", prefix.Masked().String(), "via", tb.UplinkAddr().String()); err != nil {
		tb.t.Fatalf("testbed: routing %s to the test process: %v", prefix, err)
	}
	rules := [][]string{
		{"FORWARD", "-i", tb.run, "-o", iface, "-j", "ACCEPT"},
		{"FORWARD", "-i", iface, "-o", tb.run, "-j", "ACCEPT"},
	}
	for _, r := range rules {
		if err := iptables(ctx, "-I", r); err != nil {
			tb.t.Fatalf("testbed: %v", err)
		}
	}
	tb.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, r := range rules {
			_ = iptables(ctx, "-D", r)
		}
	})
}

func iptables(ctx context.Context, op string, rule []string) error {
	out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5", op}, rule...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s %s: %w: %s", op, strings.Join(rule, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
