package dns

import (
	"errors"
	"log/slog"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Source answers lookups from the cluster state the host has cached. It is
// called from many goroutines at once and must not block on the network.
type Source interface {
	Service(namespace, name string) (*api.Service, bool)
	Endpoints(namespace, name string) (*api.Endpoints, bool)
	// PodIP reports whether a pod in namespace has ip (verified pod records).
	PodIP(namespace, ip string) bool
}

// Config configures a Server.
type Config struct {
	Domain    string   // cluster domain, default "cluster.local"
	Addrs     []string // listen addresses "ip:port"; each served over UDP and TCP; port 0 picks a free one
	Upstreams []string // "ip:port" resolvers for names outside the cluster domain; none: REFUSED
	TTL       uint32   // default 5
	Source    Source
	Log       *slog.Logger
}

// Defaults.
const (
	DefaultDomain = "cluster.local"
	DefaultTTL    = 5
)

const (
	// upstreamTimeout bounds one forwarded exchange; with the resolv.conf
	// default of 5s per try a client still gets an answer from the second
	// upstream when the first is down.
	upstreamTimeout = 2 * time.Second
	// udpBufferSize is the largest UDP query read and the EDNS0 payload size
	// advertised in answers.
	udpBufferSize = 4096
	// shutdownTimeout bounds how long Close waits for in-flight TCP queries.
	shutdownTimeout = 5 * time.Second
)

// Errors.
var (
	ErrNoSource  = errors.New("dns: config has no Source")
	ErrNoAddrs   = errors.New("dns: config has no listen addresses")
	ErrBadConfig = errors.New("dns: invalid config")
	ErrStarted   = errors.New("dns: server already started")
	ErrClosed    = errors.New("dns: server closed")
)
