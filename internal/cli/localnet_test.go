package cli

import (
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/controlplane"
)

// TestLocalMachineNetworkFlags: bad --local-machine-network settings fail
// before the server starts, naming the flag and what is wrong.
func TestLocalMachineNetworkFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		l      localMachineNetwork
		listen string
		want   string
	}{
		{"bridge without network", localMachineNetwork{bridge: "br-x"}, "0.0.0.0:0", "--local-machine-bridge: needs --local-machine-network"},
		{"not a prefix", localMachineNetwork{cidr: "10.160.0.1"}, "0.0.0.0:0", `--local-machine-network "10.160.0.1"`},
		{"IPv6", localMachineNetwork{cidr: "fd00::/64"}, "0.0.0.0:0", "must be an IPv4 prefix"},
		{"too small", localMachineNetwork{cidr: "10.160.0.0/30"}, "0.0.0.0:0", "/29 or larger"},
		{"bridge name too long", localMachineNetwork{cidr: "10.160.0.0/24", bridge: "a-very-long-bridge"}, "0.0.0.0:0", "Bridge"},
		{"server on loopback", localMachineNetwork{cidr: "10.160.0.0/24"}, "127.0.0.1:6443", "listen on 0.0.0.0 or 10.160.0.1"},
		{"server on another address", localMachineNetwork{cidr: "10.160.0.0/24"}, "10.160.0.9:6443", "listen on 0.0.0.0 or 10.160.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := controlplane.Config{DataDir: t.TempDir(), Listen: tc.listen}
			err := tc.l.prepare(t.Context(), &cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("prepare = %v, want an error containing %q", err, tc.want)
			}
			if len(cfg.TLSSANs) != 0 {
				t.Errorf("a refused network still added SANs %v", cfg.TLSSANs)
			}
		})
	}
	var none localMachineNetwork
	if err := none.prepare(t.Context(), &controlplane.Config{}); err != nil || none.network() != nil {
		t.Errorf("no flags: prepare = %v, network = %v; want nil, nil", err, none.network())
	}
}
