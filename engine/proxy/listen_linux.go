package proxy

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenConfig binds with IP_FREEBIND, so a frontend can open before its
// cluster IP lands on the host interface (and survives a brief removal).
var listenConfig = net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1)
	})
	if err != nil {
		return err
	}
	return serr
}}
