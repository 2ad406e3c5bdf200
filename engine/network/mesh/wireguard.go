//go:build linux

package mesh

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

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
		// Batch size 1 means the TUN has no offloads (no GSO/GRO): slower.
		log.Debug("wireguard-go device", "interface", name, "batch", d.dev.BatchSize())
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

func (d *userspaceDevice) configure(peers []wgtypes.PeerConfig) error {
	return d.dev.IpcSet(uapiPeers(peers))
}

// close removes the TUN interface (and the routes through it): the mesh
// lives as long as the agent.
func (d *userspaceDevice) close() error {
	d.dev.Close()
	return nil
}
