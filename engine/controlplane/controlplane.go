package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver"
	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/noderestriction"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/store"
)

// ControlPlane is a running server.
type ControlPlane struct {
	cfg          Config
	clientConfig client.Config
	store        store.Store
	encrypting   *store.Encrypting
	registry     *registry.Registry
	tokens       *auth.Tokens
	allocator    *allocator.Allocator
	clusterID    string

	embedded   *store.Embedded
	etcdClient *clientv3.Client
	httpServer *http.Server
	apiServer  *apiserver.Server
	listener   net.Listener

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	serveErr chan error
	leading  atomic.Bool
}

// Start brings a control plane up and returns once the API is serving.
func Start(ctx context.Context, cfg Config) (_ *ControlPlane, err error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cp := &ControlPlane{cfg: cfg, cancel: cancel, serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			cp.Close()
		}
	}()
	if err := cp.openStore(ctx); err != nil {
		return nil, err
	}
	if cp.clusterID, err = ensureClusterID(ctx, cp.store); err != nil {
		return nil, err
	}
	cp.tokens = auth.NewTokens(cp.store, cfg.Log.With("component", "tokens"))
	cp.allocator, err = allocator.New(cp.store, allocator.Config{ServiceCIDR: cfg.ServiceCIDR,
		NodePortRange: cfg.NodePortRange, Log: cfg.Log.With("component", "allocator")})
	if err != nil {
		return nil, err
	}
	cp.registry = registry.New(registry.Options{Store: cp.store, Admitters: []registry.Admitter{cp.allocator,
		noderestriction.New(auth.NewAdmissions(cp.store))}, MaxObjectBytes: cfg.MaxObjectBytes})
	adminToken, err := cp.bootstrapAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := cp.ensureNamespaces(ctx); err != nil {
		return nil, err
	}
	cp.wg.Add(1)
	go func() { defer cp.wg.Done(); cp.tokens.Run(runCtx) }()
	// Every server repairs claims: it is a few reads every 30 s, and each
	// change is a compare-and-swap, so servers never undo each other.
	cp.wg.Add(1)
	go func() { defer cp.wg.Done(); cp.allocator.Run(runCtx) }()
	cp.wg.Add(1)
	go func() { defer cp.wg.Done(); cp.watchKeyFile(runCtx) }()
	if err := cp.serve(runCtx, adminToken); err != nil {
		return nil, err
	}
	if cfg.Leader != nil || cfg.BackupInterval > 0 {
		if err := cp.startLeader(ctx, runCtx); err != nil {
			return nil, err
		}
	}
	if cfg.ClientConfigPath != "-" {
		path := cfg.ClientConfigPath
		if path == "" {
			path = client.DefaultConfigPath()
		}
		if err := client.WriteConfig(path, cp.clientConfig); err != nil {
			return nil, err
		}
		cfg.Log.Info("wrote client config", "path", path)
	}
	return cp, nil
}

// openStore starts the embedded etcd member or dials the external cluster,
// and wraps the store with secret encryption.
func (cp *ControlPlane) openStore(ctx context.Context) error {
	cfg := cp.cfg
	if len(cfg.EtcdEndpoints) > 0 {
		c, err := store.DialExternal(ctx, store.ExternalConfig{Endpoints: cfg.EtcdEndpoints,
			CAFile: cfg.EtcdCAFile, CertFile: cfg.EtcdCertFile, KeyFile: cfg.EtcdKeyFile})
		if err != nil {
			return err
		}
		cp.etcdClient = c
	} else {
		if cfg.Restore != "" {
			if err := cp.restore(); err != nil {
				return err
			}
		}
		// Mutual TLS from a CA of its own: no local process without the
		// client key in <data-dir>/pki can read or write the store.
		files, err := pki.EnsureEtcd(filepath.Join(cfg.DataDir, "pki"), time.Now())
		if err != nil {
			return fmt.Errorf("embedded etcd TLS: %w", err)
		}
		etcdTLS := store.EmbeddedTLS(files)
		e, err := store.StartEmbedded(ctx, store.EmbeddedConfig{
			Dir:           filepath.Join(cfg.DataDir, "etcd"),
			Logger:        cfg.Log.With("component", "etcd"),
			UnsafeNoFsync: cfg.UnsafeNoFsync,
			TLS:           &etcdTLS,
		})
		if err != nil {
			return err
		}
		cp.embedded = e
		cp.etcdClient = e.Client()
	}
	inner := store.WithTimeout(store.NewEtcd(cp.etcdClient, cfg.EtcdPrefix).WithLogger(cfg.Log), cfg.EtcdRequestTimeout)
	if err := cp.openEncryption(inner, cfg.Restore != ""); err != nil {
		return err
	}
	if cfg.Restore != "" {
		return cp.checkRestoredSecrets(ctx)
	}
	return nil
}

// bootstrapAdmin makes sure the data directory's admin token is stored.
func (cp *ControlPlane) bootstrapAdmin(ctx context.Context) (string, error) {
	return cp.ensureToken(ctx, "admin.token", "bootstrap admin of "+cp.cfg.DataDir, false)
}

// ensureToken keeps an admin-role token in a data directory file and in
// the store, creating both on first start; a system token's requests run
// at the system priority level.
func (cp *ControlPlane) ensureToken(ctx context.Context, file, description string, system bool) (string, error) {
	path := filepath.Join(cp.cfg.DataDir, file)
	b, err := os.ReadFile(path)
	token := strings.TrimSpace(string(b))
	if errors.Is(err, os.ErrNotExist) {
		token = auth.GenerateToken()
		if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("writing %s: %w", path, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if err := cp.tokens.Ensure(ctx, token, auth.CreateOptions{Role: auth.RoleAdmin, System: system, Description: description}); err != nil {
		return "", fmt.Errorf("storing token %s: %w", file, err)
	}
	return token, nil
}

// startLeader campaigns for leadership and runs cfg.Leader while leading,
// with a client authenticated by this server's own system token whose
// writes carry the term's fence.
func (cp *ControlPlane) startLeader(ctx, runCtx context.Context) error {
	token, err := cp.ensureToken(ctx, "system.token", "control loops of "+cp.cfg.DataDir, true)
	if err != nil {
		return err
	}
	cfg := cp.clientConfig
	cfg.Token = token
	c, err := client.New(cfg, client.WithUserAgent("maestro-controller-manager"))
	if err != nil {
		return err
	}
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		cp.lead(runCtx, func(ctx context.Context, fence api.LeaderFence) {
			cp.leaderTerm(ctx, c.With(client.WithLeaderFence(fence)))
		})
	}()
	return nil
}

// leaderTerm runs what the leader runs for one term: cfg.Leader and the
// periodic backups. The term ends when cfg.Leader returns.
func (cp *ControlPlane) leaderTerm(ctx context.Context, c *client.Client) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if cp.cfg.BackupInterval > 0 {
		wg.Go(func() { cp.runBackups(ctx) })
	}
	if cp.cfg.Leader != nil {
		cp.cfg.Leader(ctx, c)
		cancel()
	}
	<-ctx.Done()
}

func (cp *ControlPlane) ensureNamespaces(ctx context.Context) error {
	for _, name := range []string{api.NamespaceDefault, api.NamespaceSystem} {
		_, err := cp.registry.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}, registry.WriteOptions{})
		if err != nil && !api.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
	}
	return nil
}

// serve starts the HTTPS API.
func (cp *ControlPlane) serve(ctx context.Context, adminToken string) error {
	cfg := cp.cfg
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	cp.listener = ln
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	advertise := cfg.AdvertiseAddress
	if advertise == "" {
		advertise = host
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			advertise = "127.0.0.1"
		}
	}
	bundle, err := pki.Ensure(filepath.Join(cfg.DataDir, "pki"), certHosts(host, advertise, cfg.TLSSANs), time.Now())
	if err != nil {
		return err
	}
	srv := apiserver.New(apiserver.Config{
		Registry: cp.registry, Tokens: cp.tokens, Log: cfg.Log.With("component", "apiserver"),
		MaxRequestBytes: cfg.MaxRequestBytes, Version: cfg.Version, Ready: cp.ready, PKI: bundle, NodeCredentialTTL: cfg.NodeCredentialTTL,
		ClusterInfo: cp.ClusterInfo(), Maintenance: cp, Limits: cfg.Limits, AgentBinary: cfg.AgentBinary,
		MetricsInterval: cfg.MetricsInterval,
	})
	cp.apiServer = srv
	cp.httpServer = &http.Server{
		Handler:           srv.Handler(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{bundle.Server}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: cfg.Limits.HeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug), // failed handshakes are routine on an open port
	}
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		err := cp.httpServer.ServeTLS(ln, "", "")
		if !errors.Is(err, http.ErrServerClosed) {
			cp.serveErr <- err
		}
		close(cp.serveErr)
	}()
	cp.clientConfig = client.Config{
		Server:                   "https://" + net.JoinHostPort(advertise, port),
		CertificateAuthorityData: string(bundle.CACertPEM),
		Token:                    adminToken,
	}
	cfg.Log.Info("API server listening", "address", ln.Addr().String(), "url", cp.clientConfig.Server)
	return nil
}

func (cp *ControlPlane) ready(ctx context.Context) error {
	if _, err := cp.store.CurrentRevision(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	select {
	case <-cp.tokens.Synced():
	default:
		return errors.New("token cache not loaded yet")
	}
	return nil
}

// certHosts lists what the serving certificate must cover.
func certHosts(listenHost, advertise string, extra []string) []string {
	hosts := []string{"127.0.0.1", "::1", "localhost", advertise}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	if ip := net.ParseIP(listenHost); ip != nil && !ip.IsUnspecified() {
		hosts = append(hosts, listenHost)
	} else if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	return append(hosts, extra...)
}

// ClientConfig is the admin client config for this server.
func (cp *ControlPlane) ClientConfig() client.Config { return cp.clientConfig }

// ClusterDNS is the cluster IP reserved for the cluster DNS service (the
// tenth address of the service CIDR).
func (cp *ControlPlane) ClusterDNS() netip.Addr { return allocator.DNSAddress(cp.cfg.ServiceCIDR) }

// ClusterInfo describes the cluster: its id, service and pod networks
// (GET /v1/cluster-info).
func (cp *ControlPlane) ClusterInfo() api.ClusterInfo {
	return api.ClusterInfo{
		ClusterID:        cp.clusterID,
		ServiceCIDR:      cp.cfg.ServiceCIDR.String(),
		ClusterDNS:       cp.ClusterDNS().String(),
		ClusterDomain:    api.DefaultClusterDomain,
		NodePortRange:    cp.cfg.NodePortRange.String(),
		PodCIDR:          cp.cfg.PodCIDR.String(),
		NodeCIDRMaskSize: cp.cfg.NodeCIDRMaskSize,
		PodNetworkMode:   cp.cfg.PodNetworkMode,
	}
}

// Store is the server's store (tests inspect raw values through it).
func (cp *ControlPlane) Store() store.Store { return cp.store }

// APIServer is the API handler (tests look into its usage store).
func (cp *ControlPlane) APIServer() *apiserver.Server { return cp.apiServer }

// EtcdClient is the etcd client (leader election uses it).
func (cp *ControlPlane) EtcdClient() *clientv3.Client { return cp.etcdClient }

// Addr is the address the API listens on.
func (cp *ControlPlane) Addr() string { return cp.listener.Addr().String() }

// Wait blocks until ctx ends or the API server fails.
func (cp *ControlPlane) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err, ok := <-cp.serveErr:
		if ok && err != nil {
			return fmt.Errorf("API server: %w", err)
		}
		return nil
	}
}

// Close stops the API server (ending watches), then the store and etcd.
func (cp *ControlPlane) Close() error {
	cp.cancel()
	var errs []error
	if cp.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cp.cfg.ShutdownTimeout)
		if err := cp.httpServer.Shutdown(ctx); err != nil {
			_ = cp.httpServer.Close()
		}
		cancel()
	} else if cp.listener != nil {
		_ = cp.listener.Close()
	}
	cp.wg.Wait()
	if cp.store != nil {
		errs = append(errs, cp.store.Close())
	}
	if cp.embedded != nil {
		errs = append(errs, cp.embedded.Close())
	} else if cp.etcdClient != nil {
		errs = append(errs, cp.etcdClient.Close())
	}
	return errors.Join(errs...)
}
