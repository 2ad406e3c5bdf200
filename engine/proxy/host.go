package proxy

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/proxy/dns"
	"github.com/maestro-dev/maestro/engine/proxy/netif"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// HostConfig describes the proxy and DNS of one host.
type HostConfig struct {
	Client *client.Client
	// NodeAddresses are the addresses of the nodes on this host.
	NodeAddresses func() []netip.Addr
	// Interface carries the cluster IPs ("" netif.DefaultName; "-" none:
	// the service range is already local, as 127.x ranges are in tests).
	Interface string
	// DNSPort is the cluster DNS's port on the cluster DNS address (default 53).
	DNSPort int
	// Upstreams answer names outside the cluster domain (default: the
	// host's /etc/resolv.conf nameservers).
	Upstreams []string
	// VerifyPodRecords answers <a-b-c-d>.<ns>.pod names only for pods that
	// exist with that IP (CoreDNS's "pods verified"); it needs a credential
	// that can list every pod. Without it any well-formed name answers its
	// IP ("pods insecure", CoreDNS's default), as node credentials only see
	// their own node's pods.
	VerifyPodRecords bool
	Tuning           Tuning
	Log              *slog.Logger
}

// Host runs the service proxy and cluster DNS of one host on shared
// informers, and gives the host's agents what pods need from them: the
// resolver configuration and service environment variables.
type Host struct {
	info      *api.ClusterInfo
	services  *client.Informer[*api.Service]
	endpoints *client.Informer[*api.Endpoints]
	pods      *client.Informer[*api.Pod]
	proxier   *Proxier
	dns       *dns.Server
	dnsAddr   string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const podIPIndex = "ip"

// StartHost starts the informers, the proxy and the DNS server, and returns
// once the proxy serves the cluster's current services.
func StartHost(ctx context.Context, cfg HostConfig) (_ *Host, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	info, err := cfg.Client.ClusterInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: reading cluster info: %w", err)
	}
	prefix, err := netip.ParsePrefix(info.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("proxy: cluster info: serviceCIDR %q: %w", info.ServiceCIDR, err)
	}
	dnsIP, err := netip.ParseAddr(info.ClusterDNS)
	if err != nil {
		return nil, fmt.Errorf("proxy: cluster info: clusterDNS %q: %w", info.ClusterDNS, err)
	}
	h := &Host{info: info,
		services:  client.NewInformer(cfg.Client.Services(""), client.ListOptions{}, client.WithLogger(cfg.Log)),
		endpoints: client.NewInformer(cfg.Client.Endpoints(""), client.ListOptions{}, client.WithLogger(cfg.Log)),
	}
	if cfg.VerifyPodRecords {
		h.pods = client.NewInformer(cfg.Client.Pods(""), client.ListOptions{}, client.WithLogger(cfg.Log))
		h.pods.AddIndex(podIPIndex, func(p *api.Pod) []string {
			if p.Status.PodIP == "" {
				return nil
			}
			return []string{p.Namespace + "/" + p.Status.PodIP}
		})
	}
	var addrs AddressSyncer
	if cfg.Interface != "-" {
		d, err := netif.Open(cfg.Interface, prefix)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		// The DNS address must be local before the DNS server binds it.
		if err := d.Sync([]netip.Addr{dnsIP}); err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		addrs = d
	}
	h.proxier = New(Config{Services: h.services, Endpoints: h.endpoints, NodeAddresses: cfg.NodeAddresses,
		Addresses: addrs, ExtraAddresses: []netip.Addr{dnsIP}, Tuning: cfg.Tuning, Log: cfg.Log.With("component", "proxy")})

	if cfg.DNSPort == 0 {
		cfg.DNSPort = 53
	}
	if cfg.Upstreams == nil {
		cfg.Upstreams = hostResolvers("/etc/resolv.conf", dnsIP)
	}
	h.dnsAddr = net.JoinHostPort(dnsIP.String(), fmt.Sprint(cfg.DNSPort))
	h.dns, err = dns.New(dns.Config{Domain: info.ClusterDomain, Addrs: []string{h.dnsAddr}, Upstreams: cfg.Upstreams,
		Source: hostSource{h}, Log: cfg.Log.With("component", "dns")})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	runs := []func(context.Context){h.services.Run, h.endpoints.Run}
	if h.pods != nil {
		runs = append(runs, h.pods.Run)
	}
	for _, run := range runs {
		h.wg.Go(func() { run(runCtx) })
	}
	h.wg.Go(func() {
		if err := h.proxier.Run(runCtx); err != nil && runCtx.Err() == nil {
			cfg.Log.Error("service proxy stopped", "err", err)
		}
	})
	if err := h.dns.Start(runCtx); err != nil {
		return nil, fmt.Errorf("proxy: starting cluster DNS: %w", err)
	}
	select {
	case <-h.proxier.Synced():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if h.pods != nil && !h.pods.WaitForSync(ctx) {
		return nil, ctx.Err()
	}
	return h, nil
}

// Close stops the DNS server and the proxy (closing its connections and
// removing its addresses) and waits for them.
func (h *Host) Close() {
	if h.dns != nil {
		_ = h.dns.Close()
	}
	h.cancel()
	h.wg.Wait()
}

// Proxier is the host's service proxy.
func (h *Host) Proxier() *Proxier { return h.proxier }

// DNSAddress is where the cluster DNS listens ("ip:port").
func (h *Host) DNSAddress() string { return h.dnsAddr }

// PodDNS is the resolver configuration of pods with dnsPolicy ClusterFirst
// (the agent puts the pod's own <namespace>.svc search domain first).
func (h *Host) PodDNS() *runtime.DNSConfig {
	d := h.info.ClusterDomain
	return &runtime.DNSConfig{Servers: []string{h.info.ClusterDNS}, Searches: []string{"svc." + d, d}, Options: []string{"ndots:5"}}
}

// ServiceEnv is the service environment of containers started now in
// namespace (the agent's ServiceEnv hook).
func (h *Host) ServiceEnv(namespace string) []string {
	var svcs []*api.Service
	for _, s := range h.services.List() {
		if s.Namespace == namespace {
			svcs = append(svcs, s)
		}
	}
	return ServiceEnv(svcs)
}

// hostSource answers the DNS server from the host's informers.
type hostSource struct{ h *Host }

func (s hostSource) Service(namespace, name string) (*api.Service, bool) {
	return s.h.services.Get(namespace + "/" + name)
}

func (s hostSource) Endpoints(namespace, name string) (*api.Endpoints, bool) {
	return s.h.endpoints.Get(namespace + "/" + name)
}

func (s hostSource) PodIP(namespace, ip string) bool {
	if s.h.pods == nil {
		return true
	}
	return len(s.h.pods.ByIndex(podIPIndex, namespace+"/"+ip)) > 0
}

// hostResolvers reads the nameservers of a resolv.conf, leaving out the
// cluster DNS itself.
func hostResolvers(path string, self netip.Addr) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		ip, err := netip.ParseAddr(fields[1])
		if err != nil || ip == self {
			continue
		}
		out = append(out, net.JoinHostPort(ip.String(), "53"))
	}
	return out
}
