package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// ErrExhausted is returned when every address of the CIDR is taken.
var ErrExhausted = errors.New("network: pod CIDR exhausted")

// IPAM allocates pod addresses from one CIDR to owners (sandbox ids), host
// local: the state is one JSON file, rewritten atomically on every change.
// The network address, the gateway (first address) and, for IPv4, the
// broadcast address are never handed out. Allocation goes round the range
// from the last address given, so a freed address is not reused at once
// (a peer may still have it cached).
type IPAM struct {
	path string

	mu    sync.Mutex
	state ipamState
}

type ipamState struct {
	CIDR string `json:"cidr"`
	// Last is the address handed out last.
	Last string `json:"last,omitempty"`
	// Owners maps address -> owner.
	Owners map[string]string `json:"owners"`
}

// OpenIPAM loads (or starts) the allocations of cidr kept at path. A file
// made for another CIDR is not reused: the node's CIDR changed, and every
// address of it is void.
func OpenIPAM(path string, cidr netip.Prefix) (*IPAM, error) {
	if !cidr.IsValid() || cidr.Bits() > cidr.Addr().BitLen()-2 {
		return nil, fmt.Errorf("network: pod CIDR %q: too small for pods (needs room for a gateway and an address)", cidr)
	}
	m := &IPAM{path: path, state: ipamState{CIDR: cidr.Masked().String(), Owners: map[string]string{}}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return m, nil
	case err != nil:
		return nil, fmt.Errorf("network: reading IPAM state: %w", err)
	}
	var st ipamState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("network: IPAM state %s: %w", path, err)
	}
	if st.CIDR == m.state.CIDR {
		if err := st.validate(cidr.Masked()); err != nil {
			return nil, fmt.Errorf("network: IPAM state %s: %w (fix or remove the file; its pods then get new addresses)", path, err)
		}
		if st.Owners == nil {
			st.Owners = map[string]string{}
		}
		m.state = st
	}
	return m, nil
}

// validate checks what the file says before anything parses it without
// checking (lookup): each key a canonical address of cidr, each owner named.
func (st ipamState) validate(cidr netip.Prefix) error {
	for k, owner := range st.Owners {
		ip, err := netip.ParseAddr(k)
		switch {
		case err != nil:
			return fmt.Errorf("owners: %w", err)
		case ip.String() != k || !cidr.Contains(ip):
			return fmt.Errorf("owners: %q is not an address of %s", k, cidr)
		case owner == "":
			return fmt.Errorf("owners: %s has no owner", k)
		}
	}
	return nil
}

// CIDR is the range addresses come from.
func (m *IPAM) CIDR() netip.Prefix { return netip.MustParsePrefix(m.state.CIDR) }

// Gateway is the CIDR's first address, kept for the bridge.
func (m *IPAM) Gateway() netip.Addr { return m.CIDR().Addr().Next() }

// Allocate returns owner's address, taking a free one if it has none.
func (m *IPAM) Allocate(owner string) (netip.Addr, error) {
	if owner == "" {
		return netip.Addr{}, errors.New("network: allocate: owner is required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ip, ok := m.lookup(owner); ok {
		return ip, nil
	}
	ip, ok := m.next()
	if !ok {
		return netip.Addr{}, fmt.Errorf("%w: %s has no free address", ErrExhausted, m.state.CIDR)
	}
	next := m.clone()
	next.Owners[ip.String()] = owner
	next.Last = ip.String()
	if err := m.save(next); err != nil {
		return netip.Addr{}, err
	}
	return ip, nil
}

// Lookup returns owner's address, if it has one.
func (m *IPAM) Lookup(owner string) (netip.Addr, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookup(owner)
}

// Release frees owner's address; an owner without one is no error.
func (m *IPAM) Release(owner string) error {
	return m.Retain(func(o string) bool { return o != owner })
}

// Retain keeps the addresses of the owners keep returns true for and frees
// the others: Reconcile's step against the live sandboxes.
func (m *IPAM) Retain(keep func(owner string) bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.clone()
	for ip, o := range next.Owners {
		if !keep(o) {
			delete(next.Owners, ip)
		}
	}
	if len(next.Owners) == len(m.state.Owners) {
		return nil
	}
	return m.save(next)
}

// Owners lists the owners holding an address, sorted.
func (m *IPAM) Owners() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, o := range m.state.Owners {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

func (m *IPAM) lookup(owner string) (netip.Addr, bool) {
	for ip, o := range m.state.Owners {
		if o == owner {
			return netip.MustParseAddr(ip), true
		}
	}
	return netip.Addr{}, false
}

// next finds the first free address after Last, wrapping round once.
func (m *IPAM) next() (netip.Addr, bool) {
	cidr := m.CIDR()
	first := m.Gateway().Next()
	last := lastAddr(cidr)
	if cidr.Addr().Is4() {
		last = last.Prev() // broadcast
	}
	start := first
	if l, err := netip.ParseAddr(m.state.Last); err == nil && cidr.Contains(l) && l.Compare(first) >= 0 && l.Compare(last) < 0 {
		start = l.Next()
	}
	ip := start
	for {
		if _, taken := m.state.Owners[ip.String()]; !taken {
			return ip, true
		}
		if ip = ip.Next(); ip.Compare(last) > 0 {
			ip = first
		}
		if ip == start {
			return netip.Addr{}, false
		}
	}
}

func (m *IPAM) clone() ipamState {
	st := m.state
	st.Owners = make(map[string]string, len(m.state.Owners)+1)
	for k, v := range m.state.Owners {
		st.Owners[k] = v
	}
	return st
}

// save writes st and makes it current; on failure the state is unchanged.
func (m *IPAM) save(st ipamState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("network: encoding IPAM state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return fmt.Errorf("network: IPAM state: %w", err)
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("network: writing IPAM state: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("network: writing IPAM state: %w", err)
	}
	m.state = st
	return nil
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
