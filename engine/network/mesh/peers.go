package mesh

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// WireGuard implementations (agent flag --wireguard-implementation).
const (
	ImplAuto      = "auto"      // the kernel's when its module loads, userspace otherwise
	ImplKernel    = "kernel"    // the kernel module, through wgctrl
	ImplUserspace = "userspace" // wireguard-go in the agent over a TUN device
)

// MTU of the WireGuard interface: a 1500-byte link less WireGuard's
// 80 bytes of IPv6 + UDP + WireGuard headers.
const MTU = 1420

// wgDevice is one WireGuard interface, kernel or userspace.
type wgDevice interface {
	// impl is ImplKernel or ImplUserspace.
	impl() string
	// peers are the device's peers by base64 public key.
	peers() (map[string]Peer, error)
	// configure applies peer changes (never the private key or port).
	configure(peers []wgtypes.PeerConfig) error
	close() error
}

// parseUAPIPeers reads the peers of a WireGuard UAPI "get" answer (keys
// in hex); it skips the device's own lines, private key included.
func parseUAPIPeers(text string) (map[string]Peer, error) {
	out := map[string]Peer{}
	var cur *Peer
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "public_key":
			b, err := hex.DecodeString(v)
			if err != nil {
				return nil, errors.New("wireguard-go gave a peer key that is not hex")
			}
			key := base64.StdEncoding.EncodeToString(b)
			out[key] = Peer{PublicKey: key}
			p := out[key]
			cur = &p
		case "endpoint":
			if cur != nil {
				cur.Endpoint, _ = netip.ParseAddrPort(v)
				out[cur.PublicKey] = *cur
			}
		case "allowed_ip":
			if p, err := netip.ParsePrefix(v); err == nil && cur != nil {
				cur.AllowedIPs = append(cur.AllowedIPs, p)
				out[cur.PublicKey] = *cur
			}
		}
	}
	return out, sc.Err()
}

// uapiPeers writes peer changes in WireGuard's UAPI "set" syntax.
func uapiPeers(peers []wgtypes.PeerConfig) string {
	var b strings.Builder
	for _, p := range peers {
		fmt.Fprintf(&b, "public_key=%s\n", hex.EncodeToString(p.PublicKey[:]))
		if p.Remove {
			b.WriteString("remove=true\n")
			continue
		}
		if p.Endpoint != nil {
			fmt.Fprintf(&b, "endpoint=%s\n", p.Endpoint.AddrPort())
		}
		if p.ReplaceAllowedIPs {
			b.WriteString("replace_allowed_ips=true\n")
		}
		for _, a := range p.AllowedIPs {
			fmt.Fprintf(&b, "allowed_ip=%s\n", a.String())
		}
	}
	return b.String()
}

// peerChanges are the changes that turn the device's peers into want:
// missing or different peers set (their allowed IPs replaced), others
// removed. Unchanged peers are left alone so their sessions live on.
func peerChanges(have map[string]Peer, want []Peer) ([]wgtypes.PeerConfig, error) {
	var out []wgtypes.PeerConfig
	wanted := map[string]bool{}
	for _, p := range want {
		wanted[p.PublicKey] = true
		if h, ok := have[p.PublicKey]; ok && h.Endpoint == p.Endpoint && slices.Equal(h.AllowedIPs, p.AllowedIPs) {
			continue
		}
		key, err := wgtypes.ParseKey(p.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("node %s: public key: %w", p.Node, err)
		}
		cfg := wgtypes.PeerConfig{PublicKey: key, ReplaceAllowedIPs: true, Endpoint: net.UDPAddrFromAddrPort(p.Endpoint)}
		for _, a := range p.AllowedIPs {
			cfg.AllowedIPs = append(cfg.AllowedIPs, net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), a.Addr().BitLen())})
		}
		out = append(out, cfg)
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if wanted[k] {
			continue
		}
		key, err := wgtypes.ParseKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, wgtypes.PeerConfig{PublicKey: key, Remove: true})
	}
	return out, nil
}
