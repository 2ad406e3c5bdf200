package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/engine/controlplane"
)

// localMachineNetwork is `maestro server --local-machine-network`: local
// pools' machines as emulated hosts on a bridge of this host.
type localMachineNetwork struct {
	cidr   string
	bridge string
}

func (l *localMachineNetwork) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&l.cidr, "local-machine-network", "", "make local pools' machines emulated hosts (a network namespace each) on this IPv4 subnet, e.g. 10.160.0.0/24: the server is reachable at its first address on a bridge of this host (needs root, and --listen on 0.0.0.0 or that address); empty: machines share this host's network")
	f.StringVar(&l.bridge, "local-machine-bridge", "", "name of the local machines' bridge (default mlb-<hash of the data dir>)")
}

// network returns the local cloud's network, nil when the flag is unset
// (prepare has validated it).
func (l *localMachineNetwork) network() *local.Network {
	if l.cidr == "" {
		return nil
	}
	p, _ := netip.ParsePrefix(l.cidr)
	return &local.Network{Bridge: l.bridge, Prefix: p.Masked(), KeepBridge: true}
}

// prepare checks the flags against the server's, names the bridge, makes it
// (the server listens on its address) and adds its address to the serving
// certificate.
func (l *localMachineNetwork) prepare(ctx context.Context, cfg *controlplane.Config) error {
	if l.cidr == "" {
		if l.bridge != "" {
			return fmt.Errorf("--local-machine-bridge: needs --local-machine-network")
		}
		return nil
	}
	p, err := netip.ParsePrefix(l.cidr)
	if err != nil {
		return fmt.Errorf("--local-machine-network %q: %w", l.cidr, err)
	}
	if l.bridge == "" {
		abs, _ := filepath.Abs(cfg.DataDir)
		h := sha256.Sum256([]byte(abs))
		l.bridge = "mlb-" + hex.EncodeToString(h[:4])
	}
	n := local.Network{Bridge: l.bridge, Prefix: p.Masked()}
	if err := n.Validate(); err != nil {
		return fmt.Errorf("--local-machine-network: %w", err)
	}
	listen := cfg.Listen
	if listen == "" {
		listen = controlplane.DefaultListen
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", listen, err)
	}
	if ip, err := netip.ParseAddr(host); host != "" && (err != nil || !ip.IsUnspecified() && ip != n.Gateway()) {
		return fmt.Errorf("--local-machine-network %s: the machines reach the server at %s, but --listen is %s: listen on 0.0.0.0 or %s",
			n.Prefix, n.Gateway(), listen, n.Gateway())
	}
	if err := n.EnsureBridge(ctx); err != nil {
		return fmt.Errorf("--local-machine-network: making bridge %s: %w", n.Bridge, err)
	}
	cfg.TLSSANs = append(cfg.TLSSANs, n.Gateway().String())
	return nil
}

// cleanup removes the bridge when the server stops with no local machine
// left (machines outlive a server restart, and keep it).
func (l *localMachineNetwork) cleanup(ctx context.Context, dataDir string) error {
	n := l.network()
	if n == nil || local.InUse(filepath.Join(dataDir, "machines")) {
		return nil
	}
	return n.Remove(ctx)
}
