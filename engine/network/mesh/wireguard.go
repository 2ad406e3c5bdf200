//go:build linux

package mesh

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/wgctrl"
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

// openDevice creates (or, for the kernel's, adopts) the interface name,
// sets its key and port and brings it up, inside the namespace enter
// switches to.
func openDevice(enter func(func() error) error, name, impl string, key wgtypes.Key, port int, log *slog.Logger) (wgDevice, error) {
	if impl != ImplUserspace {
		d, err := openKernel(enter, name, key, port)
		if err == nil || impl == ImplKernel {
			return d, err
		}
		log.Info("kernel WireGuard unavailable, using wireguard-go in userspace", "interface", name, "reason", err.Error())
	}
	return openUserspace(enter, name, key, port, log)
}

type kernelDevice struct {
	name   string
	enter  func(func() error) error
	client *wgctrl.Client
}

func openKernel(enter func(func() error) error, name string, key wgtypes.Key, port int) (*kernelDevice, error) {
	d := &kernelDevice{name: name, enter: enter}
	err := enter(func() error {
		l, err := netlink.LinkByName(name)
		if err == nil && l.Type() != "wireguard" {
			return fmt.Errorf("interface %s exists and is a %s, not a kernel WireGuard interface", name, l.Type())
		}
		if err != nil {
			if err := netlink.LinkAdd(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: MTU}}); err != nil {
				return fmt.Errorf("creating kernel WireGuard interface %s (no wireguard module?): %w", name, err)
			}
		}
		if d.client, err = wgctrl.New(); err != nil {
			return err
		}
		if err := d.client.ConfigureDevice(name, wgtypes.Config{PrivateKey: &key, ListenPort: &port}); err != nil {
			return fmt.Errorf("configuring %s (port %d): %w", name, port, err)
		}
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(link)
	})
	if err != nil {
		if d.client != nil {
			d.client.Close()
		}
		return nil, err
	}
	return d, nil
}

func (d *kernelDevice) impl() string { return ImplKernel }

func (d *kernelDevice) peers() (map[string]Peer, error) {
	dev, err := d.client.Device(d.name)
	if err != nil {
		return nil, err
	}
	out := map[string]Peer{}
	for _, p := range dev.Peers {
		peer := Peer{PublicKey: p.PublicKey.String()}
		if p.Endpoint != nil {
			peer.Endpoint = p.Endpoint.AddrPort()
			peer.Endpoint = netip.AddrPortFrom(peer.Endpoint.Addr().Unmap(), peer.Endpoint.Port())
		}
		for _, a := range p.AllowedIPs {
			ip, _ := netip.AddrFromSlice(a.IP)
			ones, _ := a.Mask.Size()
			peer.AllowedIPs = append(peer.AllowedIPs, netip.PrefixFrom(ip.Unmap(), ones))
		}
		out[peer.PublicKey] = peer
	}
	return out, nil
}

func (d *kernelDevice) configure(peers []wgtypes.PeerConfig) error {
	return d.client.ConfigureDevice(d.name, wgtypes.Config{Peers: peers})
}

// close keeps the kernel interface (and so the mesh) while the agent is
// away; a restarted agent adopts it.
func (d *kernelDevice) close() error { return d.client.Close() }

type userspaceDevice struct {
	dev *device.Device
}

func openUserspace(enter func(func() error) error, name string, key wgtypes.Key, port int, log *slog.Logger) (*userspaceDevice, error) {
	var d userspaceDevice
	err := enter(func() error {
		// The TUN device, its event socket and WireGuard's UDP sockets
		// are all made on this thread, so in the namespace enter chose.
		t, err := tun.CreateTUN(name, MTU)
		if err != nil {
			return fmt.Errorf("creating TUN interface %s (is /dev/net/tun there?): %w", name, err)
		}
		logger := &device.Logger{
			Verbosef: func(format string, args ...any) {
				log.Debug("wireguard-go: "+fmt.Sprintf(format, args...), "interface", name)
			},
			Errorf: func(format string, args ...any) {
				log.Warn("wireguard-go: "+fmt.Sprintf(format, args...), "interface", name)
			},
		}
		d.dev = device.NewDevice(t, conn.NewDefaultBind(), logger)
		k := hex.EncodeToString(key[:])
		if err := d.dev.IpcSet("private_key=" + k + "\nlisten_port=" + strconv.Itoa(port) + "\n"); err != nil {
			return fmt.Errorf("setting up %s: %w", name, err)
		}
		if err := d.dev.Up(); err != nil {
			return fmt.Errorf("listening on UDP port %d for %s: %w", port, name, err)
		}
		link, err := netlink.LinkByName(name)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(link)
	})
	if err != nil {
		if d.dev != nil {
			d.dev.Close()
		}
		return nil, err
	}
	return &d, nil
}

func (d *userspaceDevice) impl() string { return ImplUserspace }

func (d *userspaceDevice) peers() (map[string]Peer, error) {
	text, err := d.dev.IpcGet()
	if err != nil {
		return nil, err
	}
	return parseUAPIPeers(text)
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

func (d *userspaceDevice) configure(peers []wgtypes.PeerConfig) error {
	return d.dev.IpcSet(uapiPeers(peers))
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

// close removes the TUN interface (and the routes through it): the mesh
// lives as long as the agent.
func (d *userspaceDevice) close() error {
	d.dev.Close()
	return nil
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
