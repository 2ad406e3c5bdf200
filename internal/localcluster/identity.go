package localcluster

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"regexp"
)

// DefaultName is the name of the cluster `maestro up` runs without --name.
const DefaultName = "maestro"

// Slots: the default cluster has slot 0 (the addresses maestro up always
// used); a named cluster takes one of slots 1..MaxSlot, first the one its
// name hashes to, else the next free one.
const MaxSlot = 31

// Identity is what sets one local cluster apart from the others running
// on this machine at the same time: every address and name it takes on
// the host, derived from its slot. It is recorded in the cluster's data
// directory (cluster.json) on the first start, so restarts and `maestro
// down` find the same.
type Identity struct {
	Name string `json:"name"`
	Slot int    `json:"slot"`
	// Listen is the API's address (127.0.0.1:6443+slot, or a free port).
	Listen string `json:"listen"`
	// ServiceCIDR (10.96+slot.0.0/16) holds the cluster IPs and the DNS
	// address (its tenth address), which the cluster's proxy puts on lo.
	ServiceCIDR netip.Prefix `json:"serviceCIDR"`
	// PodCIDR (10.244.0.0/16 for slot 0, 10.128+slot.0.0/16 for the
	// others) is the range the nodes' pod CIDRs come from.
	PodCIDR netip.Prefix `json:"podCIDR"`
	// NodePrefix names the nodes (node-1, or <name>-node-1) and
	// AddressPrefix gives them their addresses (127.0.1.N, 127.<slot>.1.N),
	// where their NodePorts, host ports and agent servers listen.
	NodePrefix    string `json:"nodePrefix"`
	AddressPrefix string `json:"addressPrefix"`
}

// DefaultAPIPort is the API port of the default cluster; slot s listens
// on DefaultAPIPort+s when that port is free.
const DefaultAPIPort = 6443

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$`)

// ValidateName checks a cluster name: a DNS label of at most 20
// characters (it prefixes node names and a data directory).
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("--name %q: want 1 to 20 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

// ForSlot is the identity of cluster name in slot (port: the derived one).
func ForSlot(name string, slot int) Identity {
	id := Identity{Name: name, Slot: slot, Listen: fmt.Sprintf("127.0.0.1:%d", DefaultAPIPort+slot)}
	if slot == 0 {
		id.ServiceCIDR = netip.MustParsePrefix("10.96.0.0/16")
		id.PodCIDR = netip.MustParsePrefix("10.244.0.0/16")
		id.NodePrefix, id.AddressPrefix = "node-", "127.0.1."
		return id
	}
	id.ServiceCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(96 + slot), 0, 0}), 16)
	id.PodCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(128 + slot), 0, 0}), 16)
	id.NodePrefix = name + "-node-"
	id.AddressPrefix = fmt.Sprintf("127.%d.1.", slot)
	return id
}

// Occupied is what other clusters on this machine hold, as Plan needs it.
type Occupied interface {
	// SlotTaken: a cluster recorded in another data directory holds the
	// slot, or its DNS address is on one of this host's interfaces.
	SlotTaken(slot int) bool
	// PortFree: nothing listens on 127.0.0.1:port.
	PortFree(port int) bool
}

// ErrNoSlot means every named slot is taken.
var ErrNoSlot = errors.New("no free slot for another local cluster")

// Plan picks the identity of a new cluster: the default name always gets
// slot 0 (the addresses it always had); another name the slot its name
// hashes to, or the next one no other cluster holds. The API port is the
// slot's unless it is busy, then freePort.
func Plan(name string, occ Occupied, freePort func() (int, error)) (Identity, error) {
	if err := ValidateName(name); err != nil {
		return Identity{}, err
	}
	if name == DefaultName {
		return ForSlot(name, 0), nil
	}
	first := int(hashName(name)%MaxSlot) + 1
	for i := range MaxSlot {
		slot := (first-1+i)%MaxSlot + 1
		if occ.SlotTaken(slot) {
			continue
		}
		id := ForSlot(name, slot)
		if !occ.PortFree(DefaultAPIPort + slot) {
			port, err := freePort()
			if err != nil {
				return Identity{}, fmt.Errorf("picking an API port: %w", err)
			}
			id.Listen = fmt.Sprintf("127.0.0.1:%d", port)
		}
		return id, nil
	}
	return Identity{}, fmt.Errorf("%w: all %d are held by clusters recorded under the maestro home or running (maestro down --name removes one)", ErrNoSlot, MaxSlot)
}

func hashName(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}

// Apply puts the identity's host settings into a cluster config: the API
// address (unless cfg has one already), the service and pod ranges, and
// the nodes' names and addresses.
func (id Identity) Apply(cfg *Config) {
	if cfg.Listen == "" {
		cfg.Listen = id.Listen
	}
	cfg.ServiceCIDR, cfg.PodCIDR = id.ServiceCIDR, id.PodCIDR
	cfg.NodePrefix, cfg.AddressPrefix = id.NodePrefix, id.AddressPrefix
}
