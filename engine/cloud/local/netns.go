package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Network makes every machine an emulated host: a network namespace of its
// own with one interface, eth0, on a bridge in this namespace, as a machine
// on a LAN. Agents on such machines run their own service proxy, DNS and pod
// network without meeting each other's, and reach the API server at the
// bridge's address (the first of Prefix).
type Network struct {
	// Bridge is the bridge's name (made when the first machine needs it,
	// removed with the last machine): at most 15 bytes.
	Bridge string
	// Prefix is the machines' subnet: the bridge holds its first address,
	// machines take the next free ones.
	Prefix netip.Prefix
	// KeepBridge keeps the bridge when the last machine goes (a server
	// listening on its address made it).
	KeepBridge bool
}

// Gateway is the bridge's address: where machines reach this host (and an
// API server listening on it).
func (n Network) Gateway() netip.Addr { return n.Prefix.Masked().Addr().Next() }

// Validate checks the settings.
func (n Network) Validate() error {
	switch {
	case n.Bridge == "" || len(n.Bridge) > 15 || strings.ContainsAny(n.Bridge, " /"):
		return fmt.Errorf("local: Options.Network.Bridge %q: must be 1 to 15 bytes, no spaces or slashes", n.Bridge)
	case !n.Prefix.IsValid() || !n.Prefix.Addr().Is4():
		return fmt.Errorf("local: Options.Network.Prefix %q: must be an IPv4 prefix", n.Prefix)
	case n.Prefix.Bits() > 29:
		return fmt.Errorf("local: Options.Network.Prefix %s: must be /29 or larger (room for machines)", n.Prefix)
	}
	return nil
}

// netnsName and vethName are derived from the machine ID (names are short:
// interface names have 15 bytes).
func netnsName(id string) string { return "mlm-" + shortHash(id) }
func vethName(id string) string  { return "mlv" + shortHash(id) }

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:5])
}

// ipCmd runs ip(8) with args.
func ipCmd(ctx context.Context, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// EnsureBridge makes the bridge with the gateway address, if missing: a
// server that listens on the gateway calls it before it starts (Create
// does too).
func (n Network) EnsureBridge(ctx context.Context) error {
	if _, err := os.Stat("/sys/class/net/" + n.Bridge); err == nil {
		return nil
	}
	gw := netip.PrefixFrom(n.Gateway(), n.Prefix.Bits()).String()
	err := ipCmd(ctx, "link", "add", "name", n.Bridge, "type", "bridge")
	if err != nil && !exists(n.Bridge) {
		return err
	}
	if err := ipCmd(ctx, "addr", "replace", gw, "dev", n.Bridge); err != nil {
		return err
	}
	if err := n.forwardRule(ctx, "-I"); err != nil {
		return err
	}
	return ipCmd(ctx, "link", "set", n.Bridge, "up")
}

// forwardRule inserts (-I) or deletes (-D) the rule that lets machines on
// the bridge talk to each other. Docker sets the FORWARD policy to DROP and
// loads br_netfilter, so frames between two ports of a bridge go through
// iptables too; without the rule only this host is reachable.
func (n Network) forwardRule(ctx context.Context, op string) error {
	rule := []string{"FORWARD", "-i", n.Bridge, "-o", n.Bridge, "-j", "ACCEPT"}
	check := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5", "-C"}, rule...)...).Run()
	if (check == nil) == (op == "-I") {
		return nil // already there, or already gone
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		return nil // no iptables, no FORWARD policy to get past
	}
	out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w", "5", op}, rule...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s %s: %w: %s", op, strings.Join(rule, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func exists(link string) bool {
	_, err := os.Stat("/sys/class/net/" + link)
	return err == nil
}

// claimAddress takes the first free machine address of the prefix for id,
// recorded as <root>/addresses/<ip> (claimed with link(2), as idempotency
// keys are, so concurrent Creates never share one).
func (c *Cloud) claimAddress(id string) (netip.Addr, error) {
	n := c.opts.Network
	dir := filepath.Join(c.opts.Root, "addresses")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return netip.Addr{}, err
	}
	last := lastAddr(n.Prefix)
	for a := n.Gateway().Next(); a.Less(last); a = a.Next() {
		owner, err := c.claimFile(filepath.Join(dir, a.String()), id)
		if err != nil {
			return netip.Addr{}, err
		}
		if owner == id {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s", n.Prefix)
}

// releaseAddress frees a's claim if id holds it.
func (c *Cloud) releaseAddress(a, id string) {
	if a == "" {
		return
	}
	p := filepath.Join(c.opts.Root, "addresses", a)
	if b, err := os.ReadFile(p); err == nil && string(b) == id {
		_ = os.Remove(p)
	}
}

// lastAddr is the prefix's broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// makeHost creates the machine's namespace, its veth on the bridge and its
// address and default route.
func (c *Cloud) makeHost(ctx context.Context, id string, addr netip.Addr) error {
	n := *c.opts.Network
	if err := n.EnsureBridge(ctx); err != nil {
		return err
	}
	ns, veth := netnsName(id), vethName(id)
	cidr := netip.PrefixFrom(addr, n.Prefix.Bits()).String()
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", veth, "master", n.Bridge, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "addr", "add", cidr, "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "route", "add", "default", "via", n.Gateway().String()},
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			c.removeHost(context.WithoutCancel(ctx), id)
			return fmt.Errorf("making the machine's network namespace: %w", err)
		}
	}
	return nil
}

// removeHost kills whatever still runs in the machine's namespace and
// deletes it (which deletes its veth pair). Missing pieces are fine.
func (c *Cloud) removeHost(ctx context.Context, id string) {
	ns := netnsName(id)
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(err, fs.ErrNotExist) {
		return
	}
	for range 3 {
		pids := namespacePids(ctx, ns)
		if len(pids) == 0 {
			break
		}
		killAll(pids)
		time.Sleep(50 * time.Millisecond)
	}
	if err := ipCmd(ctx, "netns", "del", ns); err != nil {
		c.log.Warn("deleting a machine's network namespace", "machine", id, "err", err)
	}
	if exists(vethName(id)) {
		_ = ipCmd(ctx, "link", "del", vethName(id))
	}
}

func namespacePids(ctx context.Context, ns string) []int {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Remove deletes the bridge and its forward rule (for its owner, once its
// machines are gone). A missing bridge is fine.
func (n Network) Remove(ctx context.Context) error {
	if err := n.forwardRule(ctx, "-D"); err != nil {
		return err
	}
	if !exists(n.Bridge) {
		return nil
	}
	return ipCmd(ctx, "link", "del", n.Bridge)
}

// InUse reports whether machines under root hold addresses of a network.
func InUse(root string) bool {
	entries, err := os.ReadDir(filepath.Join(root, "addresses"))
	return err == nil && len(entries) > 0
}

// removeBridgeIfUnused deletes the bridge once no machine uses it.
func (c *Cloud) removeBridgeIfUnused(ctx context.Context) {
	if c.opts.Network.KeepBridge || InUse(c.opts.Root) {
		return
	}
	if err := c.opts.Network.Remove(ctx); err != nil {
		c.log.Warn("deleting the machines' bridge", "bridge", c.opts.Network.Bridge, "err", err)
	}
}
