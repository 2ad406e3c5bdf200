//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// applyNFT writes the node's table (ip maestro-<bridge>) from scratch in
// one netlink batch: a postrouting chain that masquerades traffic from the
// node's pod CIDR to anything outside the cluster pod CIDR. Pod-to-pod
// traffic, on this node or another, keeps the pod's address. Writing the
// same rules again changes nothing, so restarted agents converge, and each
// node's table is its own, so nodes sharing a host leave each other alone.
func applyNFT(r natRules) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("network: nftables: %w", err)
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName(r.Bridge)})
	chain := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		ch := c.AddChain(&nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio})
		c.FlushChain(ch)
		return ch
	}
	post := chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
	pre := chain("prerouting", nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
	out := chain("output", nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
	guard := chain("guard", nftables.ChainTypeFilter, nftables.ChainHookPrerouting, nftables.ChainPriorityRaw)

	exprs := matchPrefix(12, r.PodCIDR, expr.CmpOpEq)
	for _, keep := range r.unmasqueraded() {
		exprs = append(exprs, matchPrefix(16, keep, expr.CmpOpNeq)...)
	}
	c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: append(exprs, &expr.Masq{})})
	// Host ports on a loopback address: the host's own client (source
	// 127.x) reaches the pod through the bridge (route_localnet on it), and
	// the pod must answer the bridge's address instead.
	c.AddRule(&nftables.Rule{Table: t, Chain: post, Exprs: append(append(
		matchPrefix(12, loopback, expr.CmpOpEq), matchOif(r.Bridge)...), &expr.Masq{})})
	// route_localnet would let a pod send to the host's 127.x services
	// through the bridge (CVE-2020-8558): drop what comes in that way.
	c.AddRule(&nftables.Rule{Table: t, Chain: guard, Exprs: append(append(
		matchIif(r.Bridge), matchPrefix(16, loopback, expr.CmpOpEq)...), &expr.Verdict{Kind: expr.VerdictDrop})})
	for _, p := range r.HostPorts {
		for _, ch := range []*nftables.Chain{pre, out} {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: dnat(p)})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("network: writing nftables table %s: %w", tableName(r.Bridge), err)
	}
	return nil
}

var loopback = netip.MustParsePrefix("127.0.0.0/8")

// dnat sends p's packets to the pod.
func dnat(p HostPort) []expr.Any {
	podIP := p.PodIP.As4()
	return append(matchPrefix(16, netip.PrefixFrom(p.HostIP, 32), expr.CmpOpEq),
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{protoNumbers[p.Protocol]}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p.Port)},
		&expr.Immediate{Register: 1, Data: podIP[:]},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(p.PodPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

func matchIif(name string) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)}}
}

func matchOif(name string) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)}}
}

// ifname is an interface name as the kernel compares it (NUL-padded).
func ifname(n string) []byte {
	b := make([]byte, 16)
	copy(b, n)
	return b
}

// removeNFT deletes the node's table; a missing one is no error.
func removeNFT(bridge string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("network: nftables: %w", err)
	}
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName(bridge)})
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("network: deleting nftables table %s: %w", tableName(bridge), err)
	}
	return nil
}

// nftablesWorks tells whether the kernel speaks nf_tables.
func nftablesWorks() bool {
	c, err := nftables.New()
	if err != nil {
		return false
	}
	_, err = c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	return err == nil
}

// applyNAT writes the node's rules with the firewall backend fw.
func applyNAT(ctx context.Context, fw string, r natRules) error {
	if fw == FirewallIPTables {
		return applyIPT(ctx, r)
	}
	return applyNFT(r)
}

// removeNAT removes the node's rules; missing ones are no error.
func removeNAT(ctx context.Context, fw, bridge string) error {
	if fw == FirewallIPTables {
		return removeIPT(ctx, bridge)
	}
	return removeNFT(bridge)
}

// matchPrefix matches the IPv4 header's address at offset (12 source, 16
// destination) against p.
func matchPrefix(offset uint32, p netip.Prefix, op expr.CmpOp) []expr.Any {
	mask := make([]byte, 4)
	for i := range p.Bits() {
		mask[i/8] |= 1 << (7 - i%8)
	}
	addr := p.Masked().Addr().As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: op, Register: 1, Data: addr[:]},
	}
}

// forwardComment marks the iptables rules this package adds.
const forwardComment = "maestro pod network"

// ensureForwardAccept lets the bridge's traffic through the iptables
// FORWARD chain. Docker sets that chain's policy to DROP, and a drop in
// any table is final, so an accept in maestro's own nftables table would
// not help: the rules go where Docker's policy is, through the iptables
// command (which speaks to nf_tables or the legacy backend, whichever the
// host uses). Without an iptables command there is no such policy to
// pass, and nothing is done.
func ensureForwardAccept(ctx context.Context, bridge string) error {
	if _, err := exec.LookPath("iptables"); err != nil {
		return nil
	}
	for _, dir := range []string{"-i", "-o"} {
		rule := []string{"FORWARD", dir, bridge, "-m", "comment", "--comment", forwardComment, "-j", "ACCEPT"}
		if ipt(ctx, append([]string{"-C"}, rule...)...) == nil {
			continue
		}
		if err := ipt(ctx, append([]string{"-I"}, rule...)...); err != nil {
			return err
		}
	}
	return nil
}

// removeForwardAccept deletes the rules ensureForwardAccept added.
func removeForwardAccept(ctx context.Context, bridge string) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return
	}
	for _, dir := range []string{"-i", "-o"} {
		rule := []string{"FORWARD", dir, bridge, "-m", "comment", "--comment", forwardComment, "-j", "ACCEPT"}
		for ipt(ctx, append([]string{"-D"}, rule...)...) == nil {
		}
	}
}
