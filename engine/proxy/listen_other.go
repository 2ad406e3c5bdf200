//go:build !linux

package proxy

import "net"

// listenConfig is plain off Linux (no IP_FREEBIND): a frontend opens once
// its address is on the host.
var listenConfig = net.ListenConfig{}
