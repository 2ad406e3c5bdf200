//go:build !linux

package mesh

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// errUnsupported: routes and WireGuard devices are managed on Linux only.
var errUnsupported = errors.New("mesh: the pod network mesh needs Linux")

// RouteProtocol marks maestro's routes (Linux only).
const RouteProtocol = 77

type netlinkRoutes struct {
	enter func(func() error) error
}

func (netlinkRoutes) list(context.Context) ([]Route, error) { return nil, errUnsupported }
func (netlinkRoutes) replace(context.Context, Route) error  { return errUnsupported }
func (netlinkRoutes) remove(context.Context, Route) error   { return errUnsupported }

func hostAddrs(func(func() error) error) ([]netip.Addr, []netip.Prefix, error) {
	return nil, nil, errUnsupported
}

func openDevice(func(func() error) error, string, string, wgtypes.Key, int, *slog.Logger) (wgDevice, error) {
	return nil, errUnsupported
}

func linkExists(func(func() error) error, string) bool { return false }
