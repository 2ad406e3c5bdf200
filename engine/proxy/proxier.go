package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// AddressSyncer puts addresses on the host (netif.Dummy).
type AddressSyncer interface {
	Sync(want []netip.Addr) error
}

// Config wires a Proxier.
type Config struct {
	Services  *client.Informer[*api.Service]
	Endpoints *client.Informer[*api.Endpoints]
	// NodeAddresses are the addresses of this host's nodes (NodePorts).
	NodeAddresses func() []netip.Addr
	// Addresses puts cluster IPs on the host; nil leaves that to someone else.
	Addresses AddressSyncer
	// ExtraAddresses are kept on the host too (the cluster DNS address).
	ExtraAddresses []netip.Addr
	Tuning         Tuning
	Log            *slog.Logger
}

// Proxier keeps this host's frontends equal to what Compute says.
type Proxier struct {
	cfg     Config
	tuning  Tuning
	health  *health
	conns   *connSet
	trigger chan struct{}
	log     *slog.Logger

	mu        sync.Mutex
	frontends map[Frontend]frontend
	// balancers are per service port and protocol, shared by its cluster
	// IP and node port frontends, so round robin spans all of them.
	balancers map[balancerKey]*balancer
	synced    chan struct{}
	syncOnce  sync.Once
}

type balancerKey struct {
	service  ServicePort
	protocol api.Protocol
}

type frontend interface {
	setRoute(Route)
	close() error
}

// New builds a proxier; Run starts it.
func New(cfg Config) *Proxier {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.NodeAddresses == nil {
		cfg.NodeAddresses = func() []netip.Addr { return nil }
	}
	t := cfg.Tuning.withDefaults()
	p := &Proxier{cfg: cfg, tuning: t, health: newHealth(t), conns: newConnSet(), trigger: make(chan struct{}, 1),
		log: cfg.Log, frontends: map[Frontend]frontend{}, balancers: map[balancerKey]*balancer{}, synced: make(chan struct{})}
	cfg.Services.AddHandler(client.Handler[*api.Service]{
		OnAdd: func(*api.Service) { p.Trigger() }, OnUpdate: func(_, _ *api.Service) { p.Trigger() }, OnDelete: func(*api.Service) { p.Trigger() }})
	cfg.Endpoints.AddHandler(client.Handler[*api.Endpoints]{
		OnAdd: func(*api.Endpoints) { p.Trigger() }, OnUpdate: func(_, _ *api.Endpoints) { p.Trigger() }, OnDelete: func(*api.Endpoints) { p.Trigger() }})
	return p
}

// Trigger asks for a sync soon (node addresses changed, say).
func (p *Proxier) Trigger() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Synced is closed after the first sync with both informers synced.
func (p *Proxier) Synced() <-chan struct{} { return p.synced }

// Run syncs on every change, and every 30 s to retry what failed, until
// ctx ends; then it closes every frontend and open connection and removes
// the addresses it put on the host.
func (p *Proxier) Run(ctx context.Context) error {
	defer p.shutdown()
	if !p.cfg.Services.WaitForSync(ctx) || !p.cfg.Endpoints.WaitForSync(ctx) {
		return ctx.Err()
	}
	retry := time.NewTicker(30 * time.Second)
	defer retry.Stop()
	p.Trigger()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.trigger:
			// Let a burst of endpoint updates (a rollout) land first.
			select {
			case <-time.After(p.tuning.Debounce):
			case <-ctx.Done():
				return nil
			}
		case <-retry.C:
		}
		if err := p.sync(ctx); err != nil {
			p.log.Warn("proxy sync incomplete; retrying within 30s", "err", err)
		}
		p.syncOnce.Do(func() { close(p.synced) })
	}
}

// sync converges the frontends on Compute's answer.
func (p *Proxier) sync(ctx context.Context) error {
	services := p.cfg.Services.List()
	eps := map[string]*api.Endpoints{}
	for _, e := range p.cfg.Endpoints.List() {
		eps[e.Namespace+"/"+e.Name] = e
	}
	desired := Compute(services, eps, p.cfg.NodeAddresses())
	var errs []error
	if p.cfg.Addresses != nil {
		if err := p.cfg.Addresses.Sync(append(ClusterIPs(services), p.cfg.ExtraAddresses...)); err != nil {
			errs = append(errs, err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	inUse := map[netip.AddrPort]bool{}
	usedBalancers := map[balancerKey]bool{}
	for fe, route := range desired {
		usedBalancers[balancerKey{route.Service, fe.Protocol}] = true
		for _, b := range route.Backends {
			inUse[b] = true
		}
		if f, ok := p.frontends[fe]; ok {
			f.setRoute(route)
			continue
		}
		f, err := p.open(ctx, fe, route)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.frontends[fe] = f
		p.log.Debug("frontend opened", "frontend", fe.String(), "service", route.Service.String(), "endpoints", len(route.Backends))
	}
	for fe, f := range p.frontends {
		if _, ok := desired[fe]; !ok {
			_ = f.close()
			delete(p.frontends, fe)
			p.log.Debug("frontend closed", "frontend", fe.String())
		}
	}
	for k := range p.balancers {
		if !usedBalancers[k] {
			delete(p.balancers, k)
		}
	}
	p.health.forget(inUse)
	return errors.Join(errs...)
}

func (p *Proxier) open(ctx context.Context, fe Frontend, route Route) (frontend, error) {
	key := balancerKey{route.Service, fe.Protocol}
	bal := p.balancers[key]
	if bal == nil {
		bal = newBalancer(p.health, p.tuning, route)
		p.balancers[key] = bal
	}
	log := p.log.With("service", route.Service.String())
	if fe.Protocol == api.ProtocolUDP {
		return openUDP(ctx, fe, bal, log)
	}
	return openTCP(ctx, fe, bal, p.conns, log)
}

// Frontends lists the addresses being served (for status and tests).
func (p *Proxier) Frontends() []Frontend {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Frontend, 0, len(p.frontends))
	for fe := range p.frontends {
		out = append(out, fe)
	}
	return out
}

func (p *Proxier) shutdown() {
	p.mu.Lock()
	for fe, f := range p.frontends {
		_ = f.close()
		delete(p.frontends, fe)
	}
	p.mu.Unlock()
	p.conns.closeAll()
	if p.cfg.Addresses != nil {
		if err := p.cfg.Addresses.Sync(nil); err != nil {
			p.log.Warn("removing service addresses", "err", err)
		}
	}
}
