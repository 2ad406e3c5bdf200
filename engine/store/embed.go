package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Defaults of an embedded member.
const (
	// DefaultAutoCompactionRetention keeps five minutes of history: enough
	// for watchers to resume after a short disconnect, and bounded.
	DefaultAutoCompactionRetention = "5m"
	// DefaultEmbeddedStartTimeout bounds how long StartEmbedded waits for
	// the member to be ready when ctx has no earlier deadline.
	DefaultEmbeddedStartTimeout = time.Minute

	embeddedName        = "maestro"
	embeddedBindRetries = 8
	embeddedLockFile    = "maestro-embedded.lock"
	// pickedPortMemory is how long a picked port is not picked again.
	pickedPortMemory = time.Minute
)

// EmbeddedConfig configures an embedded single-member etcd.
type EmbeddedConfig struct {
	// Dir is the member's data directory, created with mode 0700 if
	// missing. A member started again on the same Dir keeps its data; two
	// members cannot run on one Dir at once.
	Dir string
	// ClientURL is where the member serves clients, such as
	// "https://127.0.0.1:2379"; "" picks a free 127.0.0.1 port. It must be a
	// loopback address, https when TLS is set.
	ClientURL string
	// PeerURL is where the member listens for peers; "" picks a free
	// 127.0.0.1 port. It must be a loopback address, https when TLS is set.
	PeerURL string
	// TLS, when set, makes the member serve clients and peers over HTTPS
	// only and refuse any client without a certificate from TLS.CAFile;
	// the member's own client uses TLS.ClientCertFile. Without it the
	// member serves plain HTTP on loopback, which any local process can
	// read and write: `maestro server` always sets it.
	TLS *EmbeddedTLS
	// Logger receives etcd's own logs (component=etcd) at or above
	// LogLevel, and the embedding's. nil discards them all.
	Logger *slog.Logger
	// LogLevel is the lowest level of etcd's logs passed to Logger:
	// "debug", "info", "warn" or "error" (the default, "").
	LogLevel string
	// UnsafeNoFsync skips fsync: a crash can lose or corrupt data. For tests
	// and benchmarks only.
	UnsafeNoFsync bool
	// QuotaBackendBytes is the backend size at which etcd raises a NOSPACE
	// alarm and refuses writes; 0 is etcd's default (2 GiB).
	QuotaBackendBytes int64
	// AutoCompactionRetention is the periodic auto-compaction window, such
	// as "5m" or "1h" (a bare number means hours); "" means
	// DefaultAutoCompactionRetention and "0" disables auto-compaction.
	AutoCompactionRetention string
	// StartTimeout bounds the wait for the member to be ready; 0 means
	// DefaultEmbeddedStartTimeout.
	StartTimeout time.Duration
}

// Embedded is a running embedded etcd member and a client connected to it.
type Embedded struct {
	etcd      *embed.Etcd
	lock      *fileutil.LockedFile
	client    *clientv3.Client
	endpoints []string
	dir       string
	log       *slog.Logger

	monitorDone chan struct{}
	// closing silences etcd's logs of its own shutdown.
	closing   *atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// StartEmbedded starts a single-member etcd in cfg.Dir, serving clients on
// loopback only, and waits until it is ready to serve. When it picks its own
// ports it retries with fresh ones if another process takes a port between
// the pick and the bind, so that several members can start in parallel.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Dir == "" {
		return nil, errors.New("starting embedded etcd: EmbeddedConfig.Dir is empty")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	level, err := parseZapLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: log level: %w", cfg.Dir, err)
	}
	if cfg.TLS != nil {
		if err := cfg.TLS.validate(); err != nil {
			return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
		}
	}
	for _, u := range []string{cfg.ClientURL, cfg.PeerURL} {
		if err := checkLoopbackURL(u, cfg.TLS != nil); err != nil {
			return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("starting embedded etcd: creating data dir: %w", err)
	}
	// etcd itself would block forever on a data dir another member holds.
	lock, err := fileutil.TryLockFile(filepath.Join(cfg.Dir, embeddedLockFile), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, fileutil.ErrLocked) {
			return nil, fmt.Errorf("starting embedded etcd: data dir %s is in use by another member", cfg.Dir)
		}
		return nil, fmt.Errorf("starting embedded etcd: locking data dir: %w", err)
	}
	started := false
	defer func() {
		if !started {
			lock.Close()
		}
	}()
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = DefaultEmbeddedStartTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("embedded etcd in %s not ready within %s", cfg.Dir, timeout))
	defer cancel()

	closing := new(atomic.Bool)
	zl := newZapLogger(cfg.Logger, level, closing)
	e, err := startOnFreePorts(ctx, cfg, level.String(), zl, log)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	endpoints := []string{e.Config().AdvertiseClientUrls[0].String()}
	tlsConfig, err := cfg.TLS.clientConfig()
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		TLS:         tlsConfig,
		Logger:      zl,
	})
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("starting embedded etcd in %s: connecting a client: %w", cfg.Dir, err)
	}
	m := &Embedded{
		closing:     closing,
		etcd:        e,
		lock:        lock,
		client:      client,
		endpoints:   endpoints,
		dir:         cfg.Dir,
		log:         log,
		monitorDone: make(chan struct{}),
	}
	started = true
	go m.monitor()
	log.InfoContext(ctx, "embedded etcd ready", "dir", cfg.Dir, "endpoints", endpoints)
	return m, nil
}

// startOnFreePorts starts the member, picking the ports cfg leaves open
// and picking again when another process takes one first.
func startOnFreePorts(ctx context.Context, cfg EmbeddedConfig, level string, zl *zap.Logger, log *slog.Logger) (*embed.Etcd, error) {
	for attempt := 1; ; attempt++ {
		clientURL, peerURL := cfg.ClientURL, cfg.PeerURL
		for _, u := range []*string{&clientURL, &peerURL} {
			if *u == "" {
				addr, err := pickLoopbackAddr()
				if err != nil {
					return nil, err
				}
				*u = cfg.TLS.scheme() + "://" + addr
			}
		}
		e, err := startMember(ctx, cfg, clientURL, peerURL, level, zl)
		if err == nil {
			return e, nil
		}
		picked := cfg.ClientURL == "" || cfg.PeerURL == ""
		if !isAddrInUse(err) || !picked || attempt == embeddedBindRetries {
			return nil, err
		}
		log.WarnContext(ctx, "embedded etcd port taken; retrying with other ports",
			"client_url", clientURL, "peer_url", peerURL, "attempt", attempt)
	}
}

// startMember starts the member and waits for it to be ready.
func startMember(ctx context.Context, cfg EmbeddedConfig, clientURL, peerURL, level string, zl *zap.Logger) (*embed.Etcd, error) {
	cu, err := url.Parse(clientURL)
	if err != nil {
		return nil, fmt.Errorf("client URL: %w", err)
	}
	pu, err := url.Parse(peerURL)
	if err != nil {
		return nil, fmt.Errorf("peer URL: %w", err)
	}
	retention := cfg.AutoCompactionRetention
	if retention == "" {
		retention = DefaultAutoCompactionRetention
	}

	ec := embed.NewConfig()
	ec.Name = embeddedName
	ec.Dir = cfg.Dir
	ec.ListenClientUrls = []url.URL{*cu}
	ec.AdvertiseClientUrls = []url.URL{*cu}
	ec.ListenPeerUrls = []url.URL{*pu}
	ec.AdvertisePeerUrls = []url.URL{*pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.Logger = "zap"
	ec.LogLevel = level
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = retention
	ec.EnableGRPCGateway = false
	if cfg.TLS != nil {
		ec.ClientTLSInfo = cfg.TLS.serverInfo(cfg.TLS.ServerCertFile, cfg.TLS.ServerKeyFile)
		ec.PeerTLSInfo = cfg.TLS.serverInfo(cfg.TLS.PeerCertFile, cfg.TLS.PeerKeyFile)
	}

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err, ok := <-e.Err():
		e.Close()
		if !ok || err == nil {
			err = errors.New("member stopped")
		}
		return nil, fmt.Errorf("member failed before it was ready: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("member did not become ready: %w", context.Cause(ctx))
	}
}

// monitor logs the errors the member reports while it runs. It returns when
// the member closes its error channel, at Close.
func (m *Embedded) monitor() {
	defer close(m.monitorDone)
	for err := range m.etcd.Err() {
		if err != nil && !m.closing.Load() {
			m.log.Error("embedded etcd failed", "dir", m.dir, "error", err)
		}
	}
}

// Endpoints are the member's client URLs.
func (m *Embedded) Endpoints() []string { return append([]string(nil), m.endpoints...) }

// Client is a client connected to the member; it is closed by Close.
func (m *Embedded) Client() *clientv3.Client { return m.client }

// Close closes the client and stops the member, waiting until its data
// directory is released so that the member can be started again on it.
func (m *Embedded) Close() error {
	m.closeOnce.Do(func() {
		m.closing.Store(true)
		if err := m.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
			m.closeErr = fmt.Errorf("closing embedded etcd client: %w", err)
		}
		m.etcd.Close()
		<-m.etcd.Server.StopNotify()
		<-m.monitorDone
		if err := m.lock.Close(); err != nil && m.closeErr == nil {
			m.closeErr = fmt.Errorf("unlocking embedded etcd data dir: %w", err)
		}
		m.log.Info("embedded etcd stopped", "dir", m.dir)
	})
	return m.closeErr
}

// Picked ports are remembered for a while so that members started in
// parallel in one process do not pick the same port; binds lost to other processes are
// retried by StartEmbedded.
var (
	pickedMu    sync.Mutex
	pickedPorts = map[int]time.Time{}

	// pickLoopbackAddr is freeLoopbackAddr; tests replace it to lose a race.
	pickLoopbackAddr = freeLoopbackAddr
)

// freeLoopbackAddr returns a 127.0.0.1 address whose port was free a moment
// ago and has not been handed out before in this process.
func freeLoopbackAddr() (string, error) {
	pickedMu.Lock()
	defer pickedMu.Unlock()
	now := time.Now()
	for port, at := range pickedPorts {
		if now.Sub(at) > pickedPortMemory {
			delete(pickedPorts, port)
		}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("picking a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, taken := pickedPorts[port]; !taken {
			pickedPorts[port] = now
			return fmt.Sprintf("127.0.0.1:%d", port), nil
		}
	}
	return "", errors.New("picking a free loopback port: every port offered was already used")
}

// isAddrInUse reports whether err is a failure to bind a taken address.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use")
}

// checkLoopbackURL accepts "" or an http(s) URL on a loopback host (https
// only when the member uses TLS).
func checkLoopbackURL(raw string, tls bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be http or https", raw)
	}
	if tls && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be https (the member serves TLS only)", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("URL %q: the embedded member listens on loopback addresses only", raw)
	}
	return nil
}
