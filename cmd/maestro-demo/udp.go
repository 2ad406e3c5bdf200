package main

import (
	"context"
	"errors"
	"log"
	"net"
)

// serveUDP answers every datagram with "pod=<name> from=<ip:port> <payload>"
// (from is the sender as this pod sees it) until ctx ends (which closes conn).
func serveUDP(ctx context.Context, conn *net.UDPConn, podName string, logger *log.Logger) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	prefix := []byte("pod=" + podName + " ")
	buf := make([]byte, 64<<10)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			logger.Printf("udp: %v", err)
			continue
		}
		reply := append(prefix[:len(prefix):len(prefix)], "from="+from.String()+" "...)
		reply = append(reply, buf[:n]...)
		if _, err := conn.WriteToUDP(reply, from); err != nil {
			logger.Printf("udp reply to %s: %v", from, err)
			continue
		}
		logger.Printf("UDP %d bytes remote=%s", n, from)
	}
}
