package main

import (
	"errors"
	"net"
	"net/http"
	"os"
	"time"
)

// udpAttempts and udpWait bound /udp: a datagram (or its reply) may be lost
// while a path comes up, so it is sent a few times.
const (
	udpAttempts = 3
	udpWait     = time.Second
)

// whoami answers with the caller's address as this pod sees it, so a test
// can tell whether a network rewrote the source of a connection.
func (s *server) whoami(w http.ResponseWriter, r *http.Request) {
	text(w, http.StatusOK, "remote=%s", r.RemoteAddr)
}

// udpCall sends data to a UDP address and answers with the first reply:
// the UDP counterpart of /call, so a test can drive UDP from inside a pod.
func (s *server) udpCall(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	addr, data := q.Get("addr"), q.Get("data")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		text(w, http.StatusBadRequest, "addr must be host:port, got %q", addr)
		return
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		text(w, http.StatusBadGateway, "udp %s: %v", addr, err)
		return
	}
	defer conn.Close()
	buf := make([]byte, 64<<10)
	for range udpAttempts {
		if _, err = conn.Write([]byte(data)); err != nil {
			break
		}
		conn.SetReadDeadline(time.Now().Add(udpWait))
		var n int
		if n, err = conn.Read(buf); err == nil {
			text(w, http.StatusOK, "%s", buf[:n])
			return
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
	}
	text(w, http.StatusGatewayTimeout, "udp %s: no reply: %v", addr, err)
}
