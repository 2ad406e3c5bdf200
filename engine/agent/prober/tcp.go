package prober

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
)

// probeTCP succeeds when a connection opens; it sends nothing.
func probeTCP(ctx context.Context, s *api.TCPSocketAction, t Target) (Result, string, error) {
	port, err := resolvePort(s.Port, t.NamedPorts)
	if err != nil {
		return Unknown, "", err
	}
	host := s.Host
	if host == "" {
		host = t.PodIP
	}
	if host == "" {
		return Unknown, "", errors.New("no pod IP to probe")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Failure, err.Error(), nil
	}
	_ = conn.Close()
	return Success, "", nil
}
