//go:build !linux

package network

import (
	"context"
	"errors"
	"net/netip"
)

var errUnsupported = errors.New("network: pod networking needs Linux")

func ensureBridge(string, string, netip.Prefix, int) error { return errUnsupported }
func bridgesByAlias(string) (map[string]string, error)     { return nil, nil }
func deleteLink(string) error                              { return nil }
func attach(attachSpec) error                              { return errUnsupported }
func applyNAT(context.Context, string, natRules) error     { return errUnsupported }
func removeNAT(context.Context, string, string) error      { return nil }
func nftablesWorks() bool                                  { return false }
func ensureForwardAccept(context.Context, string) error    { return errUnsupported }
func removeForwardAccept(context.Context, string)          {}
