package proxy

import (
	"net/netip"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Frontend is one address the proxy listens on for one service port.
type Frontend struct {
	Addr     netip.AddrPort
	Protocol api.Protocol
}

func (f Frontend) String() string { return string(f.Protocol) + "/" + f.Addr.String() }

// ServicePort names the service port a frontend serves.
type ServicePort struct {
	Namespace, Name, Port string
}

func (s ServicePort) String() string {
	if s.Port == "" {
		return s.Namespace + "/" + s.Name
	}
	return s.Namespace + "/" + s.Name + ":" + s.Port
}

// Route is what Compute says one frontend should do.
type Route struct {
	Service  ServicePort
	Backends []netip.AddrPort // ready endpoints, sorted
	Affinity bool             // sessionAffinity ClientIP
}

// Tuning has the proxy's timing knobs; zero values take the defaults.
type Tuning struct {
	// DialTimeout bounds one connection attempt to an endpoint.
	DialTimeout time.Duration
	// Attempts is how many endpoints a connection tries before failing.
	Attempts int
	// FailuresToSkip consecutive failures make an endpoint skipped...
	FailuresToSkip int
	// ...for SkipBackoff, doubling up to MaxSkipBackoff while it keeps failing.
	SkipBackoff, MaxSkipBackoff time.Duration
	// AffinityTimeout forgets a client's endpoint after this much idle time.
	AffinityTimeout time.Duration
	// UDPIdleTimeout ends a UDP session without traffic.
	UDPIdleTimeout time.Duration
	// Debounce groups bursts of endpoint changes into one sync.
	Debounce time.Duration
}

func (t Tuning) withDefaults() Tuning {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.DialTimeout, time.Second)
	def(&t.SkipBackoff, time.Second)
	def(&t.MaxSkipBackoff, 30*time.Second)
	def(&t.AffinityTimeout, 3*time.Hour)
	def(&t.UDPIdleTimeout, 30*time.Second)
	def(&t.Debounce, 10*time.Millisecond)
	if t.Attempts <= 0 {
		t.Attempts = 3
	}
	if t.FailuresToSkip <= 0 {
		t.FailuresToSkip = 2
	}
	return t
}
