package allocator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
)

// Claim key prefixes in the store.
const (
	ServiceIPsPrefix = "/allocations/serviceips/"
	NodePortsPrefix  = "/allocations/nodeports/"
)

// Defaults of Config.
var (
	DefaultServiceCIDR   = netip.MustParsePrefix("10.96.0.0/16")
	DefaultNodePortRange = PortRange{Min: 30000, Max: 32767}
)

// Default timings of Config.
const (
	DefaultRepairInterval = 30 * time.Second
	// DefaultRepairGrace is far longer than any write takes between its
	// claim and its store write, so repair never frees a value of a
	// create still in flight (on this server or another, allowing for
	// modest clock skew between servers).
	DefaultRepairGrace = time.Minute
)

// Config sets the ranges values are allocated from.
type Config struct {
	// ServiceCIDR is the cluster IP range (default DefaultServiceCIDR). Its
	// network address, first host address (reserved), DNS address
	// (DNSAddress) and, for IPv4, broadcast address are never allocated;
	// the first host and DNS addresses may be requested explicitly.
	ServiceCIDR netip.Prefix
	// NodePortRange is the node port range (default DefaultNodePortRange).
	NodePortRange PortRange
	// RepairInterval is how often Run repairs (default DefaultRepairInterval).
	RepairInterval time.Duration
	// RepairGrace is how old an unused claim must be before repair frees
	// it (default DefaultRepairGrace).
	RepairGrace time.Duration
	// Clock is time.Now, replaceable in tests.
	Clock func() time.Time
	Log   *slog.Logger
}

// Allocator is the registry admitter that allocates Services' cluster IPs
// and node ports, and the releaser that frees them.
type Allocator struct {
	store    store.Store
	ips      *pool
	ports    *pool
	cidr     netip.Prefix
	portRng  PortRange
	interval time.Duration
	grace    time.Duration
	now      func() time.Time
	log      *slog.Logger
}

var (
	_ registry.Admitter = (*Allocator)(nil)
	_ registry.Releaser = (*Allocator)(nil)
)

// New builds an allocator over s with cfg's ranges (zero values take the
// defaults); invalid ranges are an error saying what is wrong.
func New(s store.Store, cfg Config) (*Allocator, error) {
	if !cfg.ServiceCIDR.IsValid() {
		cfg.ServiceCIDR = DefaultServiceCIDR
	}
	if cfg.NodePortRange == (PortRange{}) {
		cfg.NodePortRange = DefaultNodePortRange
	}
	if err := ValidateServiceCIDR(cfg.ServiceCIDR); err != nil {
		return nil, err
	}
	if err := cfg.NodePortRange.Validate(); err != nil {
		return nil, err
	}
	a := &Allocator{
		store: s, cidr: cfg.ServiceCIDR, portRng: cfg.NodePortRange,
		interval: cfg.RepairInterval, grace: cfg.RepairGrace, now: cfg.Clock, log: cfg.Log,
	}
	if a.interval <= 0 {
		a.interval = DefaultRepairInterval
	}
	if a.grace <= 0 {
		a.grace = DefaultRepairGrace
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.ips = newIPPool(cfg.ServiceCIDR)
	a.ports = newPortPool(cfg.NodePortRange)
	return a, nil
}

// ServiceCIDR is the cluster IP range.
func (a *Allocator) ServiceCIDR() netip.Prefix { return a.cidr }

// NodePortRange is the node port range.
func (a *Allocator) NodePortRange() PortRange { return a.portRng }

// DNSAddress is the cluster IP reserved for the cluster DNS service.
func (a *Allocator) DNSAddress() netip.Addr { return DNSAddress(a.cidr) }

// PortRange is an inclusive range of ports.
type PortRange struct {
	Min, Max int32
}

// String renders the range as "30000-32767".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Contains reports whether p is in the range.
func (r PortRange) Contains(p int32) bool { return p >= r.Min && p <= r.Max }

// Size is the number of ports in the range.
func (r PortRange) Size() int { return int(r.Max-r.Min) + 1 }

// Validate checks 1 <= Min <= Max <= 65535.
func (r PortRange) Validate() error {
	if r.Min < 1 || r.Max > 65535 || r.Min > r.Max {
		return fmt.Errorf("node port range %s: want MIN-MAX with 1 <= MIN <= MAX <= 65535", r)
	}
	return nil
}

// ParsePortRange reads "MIN-MAX" ("30000-32767").
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return PortRange{}, fmt.Errorf("node port range %q: want MIN-MAX, e.g. 30000-32767", s)
	}
	min, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
	max, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return PortRange{}, fmt.Errorf("node port range %q: want MIN-MAX with numbers, e.g. 30000-32767", s)
	}
	r := PortRange{Min: int32(min), Max: int32(max)}
	return r, r.Validate()
}

// claimRecord is the value of a claim key: who holds the value, since when.
type claimRecord struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       string    `json:"uid"`
	Time      time.Time `json:"time"`
}
