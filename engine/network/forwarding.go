package network

import (
	"fmt"
	"os"
	"strings"
)

// ipForwardPath is the IPv4 forwarding switch of the network namespace of
// the thread that opens it.
const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// EnableIPv4Forwarding turns IPv4 forwarding on in the network namespace
// enter runs its function in (nil: the caller's): the host routes pod
// traffic between its bridge, other nodes and the world. It reports
// whether it changed anything. The pod network (Setup) and the routes to
// other nodes (engine/network/mesh) both need it.
func EnableIPv4Forwarding(enter func(func() error) error) (bool, error) {
	if enter == nil {
		enter = func(fn func() error) error { return fn() }
	}
	changed := false
	err := enter(func() error {
		b, err := os.ReadFile(ipForwardPath)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) == "1" {
			return nil
		}
		changed = true
		return os.WriteFile(ipForwardPath, []byte("1\n"), 0o644)
	})
	if err != nil {
		return false, fmt.Errorf("network: turning on IPv4 forwarding (%s): %w", ipForwardPath, err)
	}
	return changed, nil
}
