package allocator

import (
	"fmt"
	"strconv"
)

// pool is one range of values (cluster IPs or node ports) seen as offsets
// 0..size-1, each claimed under its own key.
type pool struct {
	// what names a value in messages: "cluster IP", "node port".
	what string
	// describe names the range in messages: "the service IP range 10.96.0.0/16".
	describe string
	prefix   string
	size     uint64
	// format renders the value at an offset ("10.96.0.5", "30080").
	format func(off uint64) string
	// parse finds a value's offset; ok is false outside the range.
	parse func(v string) (off uint64, ok bool)
	// reserved offsets are never allocated (they may be requested).
	reserved func(off uint64) bool
	// unusable offsets may not even be requested (network, broadcast).
	unusable func(off uint64) bool
}

func (p *pool) key(v string) string { return p.prefix + v }

// allocatable is the number of offsets allocation may hand out.
func (p *pool) allocatable() uint64 {
	n := uint64(0)
	for _, off := range []uint64{0, 1, 10, p.size - 1} {
		if off < p.size && (p.reserved(off) || p.unusable(off)) {
			n++
		}
	}
	return p.size - n
}

func newPortPool(r PortRange) *pool {
	return &pool{
		what:     "node port",
		describe: "the node port range " + r.String(),
		prefix:   NodePortsPrefix,
		size:     uint64(r.Size()),
		format:   func(off uint64) string { return strconv.Itoa(int(r.Min) + int(off)) },
		parse: func(v string) (uint64, bool) {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || !r.Contains(int32(n)) {
				return 0, false
			}
			return uint64(int32(n) - r.Min), true
		},
		reserved: func(uint64) bool { return false },
		unusable: func(uint64) bool { return false },
	}
}

func portString(p int32) string { return strconv.Itoa(int(p)) }

// fullDetail says a pool has nothing left, and what to do about it.
func (p *pool) fullDetail() string {
	return fmt.Sprintf("no free %s: %s is full (%d allocatable, all allocated); delete unused services or widen the range",
		p.what, p.describe, p.allocatable())
}
