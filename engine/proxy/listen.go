package proxy

import (
	"context"
	"net"
)

func listenTCP(ctx context.Context, addr string) (net.Listener, error) {
	return listenConfig.Listen(ctx, "tcp", addr)
}

func listenUDP(ctx context.Context, addr string) (*net.UDPConn, error) {
	pc, err := listenConfig.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
