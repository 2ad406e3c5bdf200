//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The iptables backend, for kernels without nf_tables: the same rules as
// the nftables table, in chains of the node's own (MST<kind>-<bridge
// hash>) that the built-in chains jump to. Each apply flushes and refills
// the chains, so it converges like the nftables batch, though not in one
// atomic step.

// iptChain is one of the node's chains and where it is hooked in.
type iptChain struct {
	table, name, hook string
}

func iptChains(bridge string) []iptChain {
	id := strings.TrimPrefix(bridge, "mst")
	return []iptChain{
		{"nat", "MSTPOST-" + id, "POSTROUTING"},
		{"nat", "MSTDNAT-" + id, "PREROUTING"},
		{"nat", "MSTDNAT-" + id, "OUTPUT"},
		{"raw", "MSTGUARD-" + id, "PREROUTING"},
	}
}

func applyIPT(ctx context.Context, r natRules) error {
	ch := iptChains(r.Bridge)
	post, dnat, guard := ch[0], ch[1], ch[3]
	for _, c := range ch {
		_ = ipt(ctx, "-t", c.table, "-N", c.name) // exists already: fine
		if err := ipt(ctx, "-t", c.table, "-F", c.name); err != nil {
			return err
		}
		if ipt(ctx, "-t", c.table, "-C", c.hook, "-j", c.name) != nil {
			if err := ipt(ctx, "-t", c.table, "-I", c.hook, "-j", c.name); err != nil {
				return err
			}
		}
	}
	var rules [][]string
	keep := r.unmasqueraded()
	for _, p := range keep[1:] {
		rules = append(rules, []string{"-t", "nat", "-A", post.name, "-s", r.PodCIDR.String(), "-d", p.String(), "-j", "RETURN"})
	}
	rules = append(rules, [][]string{
		{"-t", "nat", "-A", post.name, "-s", r.PodCIDR.String(), "!", "-d", keep[0].String(), "-j", "MASQUERADE"},
		{"-t", "nat", "-A", post.name, "-s", loopback.String(), "-o", r.Bridge, "-j", "MASQUERADE"},
		{"-t", "raw", "-A", guard.name, "-i", r.Bridge, "-d", loopback.String(), "-j", "DROP"},
	}...)
	for _, p := range r.HostPorts {
		rules = append(rules, []string{"-t", "nat", "-A", dnat.name, "-d", p.HostIP.String() + "/32", "-p", p.Protocol,
			"--dport", strconv.Itoa(int(p.Port)), "-j", "DNAT", "--to-destination",
			p.PodIP.String() + ":" + strconv.Itoa(int(p.PodPort))})
	}
	for _, rule := range rules {
		if err := ipt(ctx, rule...); err != nil {
			return err
		}
	}
	return nil
}

func removeIPT(ctx context.Context, bridge string) error {
	var errs []error
	for _, c := range iptChains(bridge) {
		for ipt(ctx, "-t", c.table, "-D", c.hook, "-j", c.name) == nil {
		}
	}
	for _, c := range iptChains(bridge) {
		if ipt(ctx, "-t", c.table, "-F", c.name) == nil {
			if err := ipt(ctx, "-t", c.table, "-X", c.name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// iptWait is how long (seconds) an iptables command waits for the xtables
// lock another holds; iptTimeout bounds the whole command, which runs
// under the node's rules lock: a hung one must not stop every pod start.
const iptWait = "5"

var iptTimeout = 30 * time.Second

// ipt runs one iptables command.
func ipt(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, iptTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w", iptWait}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("network: iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
