package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
)

// DefaultDialTimeout bounds DialExternal when ExternalConfig.DialTimeout is 0.
const DefaultDialTimeout = 5 * time.Second

// ExternalConfig says how to reach an etcd cluster run outside maestro.
type ExternalConfig struct {
	// Endpoints are the cluster's client URLs, such as
	// "https://10.0.0.1:2379".
	Endpoints []string
	// CAFile verifies the servers' certificates; "" uses the system roots
	// for https endpoints.
	CAFile string
	// CertFile and KeyFile are the client certificate and key, for clusters
	// that require client certificates. Both or neither.
	CertFile, KeyFile string
	// DialTimeout bounds the connection and the first request; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Logger receives the client's errors; nil discards them.
	Logger *slog.Logger
}

// DialExternal connects to an external etcd cluster and checks that it
// answers a linearizable read within the dial timeout, so that an unreachable
// or leaderless cluster is reported now, naming its endpoints, rather than
// on first use. The caller closes the client.
func DialExternal(ctx context.Context, cfg ExternalConfig) (*clientv3.Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("connecting to etcd: no endpoints given")
	}
	where := strings.Join(cfg.Endpoints, ",")
	timeout := cfg.DialTimeout
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	tlsConfig, err := externalTLS(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", where, err)
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: timeout,
		TLS:         tlsConfig,
		Logger:      newZapLogger(cfg.Logger, zapcore.ErrorLevel, nil),
		// A member whose host vanished (no reset, as when its network
		// fails) is noticed by the keepalive within seconds, and requests
		// go to the other members; without it the connection stays
		// "ready" until TCP gives up, minutes later. etcd refuses pings
		// more often than every 5 s (--grpc-keepalive-min-time).
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		PermitWithoutStream:  true,
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", where, err)
	}

	probeCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	// A linearizable read needs a leader and a quorum: the check that the
	// cluster can serve, not merely that a socket opens.
	if _, err := client.Get(probeCtx, "/", clientv3.WithCountOnly()); err != nil {
		client.Close()
		err = translate(probeCtx, err)
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// The client waits for a connection until the deadline and says
			// only that; dial the endpoints to say why.
			return nil, fmt.Errorf("etcd at %s is unreachable: no answer within %s: %w%s",
				where, timeout, err, diagnose(cfg.Endpoints, tlsConfig, min(timeout, 2*time.Second)))
		}
		return nil, fmt.Errorf("etcd at %s failed its first read: %w", where, err)
	}
	if cfg.Logger != nil {
		cfg.Logger.InfoContext(ctx, "connected to etcd", "endpoints", cfg.Endpoints, "probe", time.Since(start))
	}
	return client, nil
}

// externalTLS builds the client TLS configuration from the files of cfg: nil
// for plain http endpoints without files, system roots for https without a
// CA file.
func externalTLS(cfg ExternalConfig) (*tls.Config, error) {
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("TLS client certificate and key must be given together")
	}
	for _, f := range []string{cfg.CAFile, cfg.CertFile, cfg.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("TLS file: %w", err)
		}
	}
	if cfg.CAFile == "" && cfg.CertFile == "" {
		for _, ep := range cfg.Endpoints {
			if strings.HasPrefix(ep, "https://") {
				return &tls.Config{MinVersion: tls.VersionTLS12}, nil
			}
		}
		return nil, nil
	}
	info := transport.TLSInfo{
		CertFile:      cfg.CertFile,
		KeyFile:       cfg.KeyFile,
		TrustedCAFile: cfg.CAFile,
	}
	tlsConfig, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("TLS configuration: %w", err)
	}
	if tlsConfig.MinVersion < tls.VersionTLS12 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}
	return tlsConfig, nil
}

// diagnose dials each endpoint (and shakes hands over TLS) to find why it
// does not answer, and returns the reasons as " (endpoint: reason; ...)",
// or "" when every endpoint accepts a connection.
func diagnose(endpoints []string, tlsConfig *tls.Config, timeout time.Duration) string {
	var reasons []string
	for _, ep := range endpoints {
		if err := probeEndpoint(ep, tlsConfig, timeout); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", ep, err))
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	return " (" + strings.Join(reasons, "; ") + ")"
}

func probeEndpoint(endpoint string, tlsConfig *tls.Config, timeout time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		u = &url.URL{Host: endpoint}
	}
	conn, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if u.Scheme != "https" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	cfg.NextProtos = []string{"h2"}
	tc := tls.Client(conn, cfg)
	if err := tc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if err := tc.Handshake(); err != nil {
		return err
	}
	// With TLS 1.3 a server rejecting the client certificate says so only
	// after the handshake: read briefly for its alert.
	if err := tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		return err
	}
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	}
	return nil
}
