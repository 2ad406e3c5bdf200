package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
)

// HostPort publishes a pod's port on a host address: packets to
// HostIP:Port are sent to the pod's address at PodPort (DNAT in the node's
// nftables table).
type HostPort struct {
	HostIP   netip.Addr `json:"hostIP"`
	Port     uint16     `json:"port"`
	PodPort  uint16     `json:"podPort"`
	Protocol string     `json:"protocol"` // "tcp", "udp" or "sctp"
	PodIP    netip.Addr `json:"podIP"`
}

// protoNumbers are the IP protocol numbers of HostPort.Protocol.
var protoNumbers = map[string]byte{"tcp": 6, "udp": 17, "sctp": 132}

func (p HostPort) validate() error {
	switch {
	case !p.HostIP.Is4():
		return fmt.Errorf("network: host port %d: hostIP %q must be an IPv4 address", p.Port, p.HostIP)
	case p.Port == 0 || p.PodPort == 0:
		return fmt.Errorf("network: host port %d -> %d: ports must be 1-65535", p.Port, p.PodPort)
	case protoNumbers[p.Protocol] == 0:
		return fmt.Errorf("network: host port %d: protocol %q must be tcp, udp or sctp", p.Port, p.Protocol)
	}
	return nil
}

// hostPorts keeps each owner's host ports in a file, since the rules are
// rewritten whole and a restarted agent must write them again.
type hostPorts struct {
	path string
	mu   sync.Mutex
	m    map[string][]HostPort
}

// openHostPorts loads the host ports kept at path, but those of pods
// outside cidr: the node's CIDR changed, and those pods are gone with it.
func openHostPorts(path string, cidr netip.Prefix) (*hostPorts, error) {
	h := &hostPorts{path: path, m: map[string][]HostPort{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &h.m)
	}
	if err != nil {
		return nil, fmt.Errorf("network: host ports state %s: %w", path, err)
	}
	maps.DeleteFunc(h.m, func(_ string, ps []HostPort) bool {
		return slices.ContainsFunc(ps, func(p HostPort) bool { return !cidr.Contains(p.PodIP) })
	})
	return h, nil
}

// set records owner's ports (none: forget owner) and reports whether
// anything changed.
func (h *hostPorts) set(owner string, ports []HostPort) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if slices.Equal(h.m[owner], ports) {
		return false, nil
	}
	next := make(map[string][]HostPort, len(h.m)+1)
	for k, v := range h.m {
		next[k] = v
	}
	if len(ports) == 0 {
		delete(next, owner)
	} else {
		next[owner] = ports
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err == nil {
		err = os.WriteFile(h.path+".tmp", b, 0o600)
	}
	if err == nil {
		err = os.Rename(h.path+".tmp", h.path)
	}
	if err != nil {
		return false, fmt.Errorf("network: writing host ports state: %w", err)
	}
	h.m = next
	return true, nil
}

// all lists every owner's ports in a stable order.
func (h *hostPorts) all() []HostPort {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []HostPort
	for _, ps := range h.m {
		out = append(out, ps...)
	}
	slices.SortFunc(out, func(a, b HostPort) int {
		if c := a.HostIP.Compare(b.HostIP); c != 0 {
			return c
		}
		if c := int(a.Port) - int(b.Port); c != 0 {
			return c
		}
		return strings.Compare(a.Protocol, b.Protocol)
	})
	return out
}
