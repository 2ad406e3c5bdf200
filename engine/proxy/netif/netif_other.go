//go:build !linux

package netif

import (
	"errors"
	"net/netip"
)

// Dummy is not available off Linux: cluster IPs are host addresses set
// through netlink.
type Dummy struct{ name string }

// Open reports that cluster IPs need Linux.
func Open(name string, _ ...netip.Prefix) (*Dummy, error) {
	return nil, errors.New("service cluster IPs need Linux (netlink); run the proxy on a Linux node")
}

// Name is the interface's name.
func (d *Dummy) Name() string { return d.name }

// Sync does nothing: there is never an open Dummy off Linux.
func (d *Dummy) Sync([]netip.Addr) error { return errors.ErrUnsupported }

// Release does nothing.
func (d *Dummy) Release() error { return nil }
