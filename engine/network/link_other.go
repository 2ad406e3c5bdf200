//go:build !linux

package network

import (
	"context"
	"errors"
	"net/netip"
)

var errUnsupported = errors.New("network: pod networking needs Linux")

func ensureBridge(string, netip.Prefix, int) error      { return errUnsupported }
func deleteLink(string) error                           { return nil }
func attach(attachSpec) error                           { return errUnsupported }
func enableForwarding() error                           { return errUnsupported }
func applyNAT(natRules) error                           { return errUnsupported }
func removeNAT(string) error                            { return nil }
func ensureForwardAccept(context.Context, string) error { return errUnsupported }
func removeForwardAccept(context.Context, string)       {}
