package store

import (
	"crypto/tls"
	"errors"
	"fmt"

	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// EmbeddedTLS is the embedded member's TLS material: PEM files, keys
// readable only by the server's user.
type EmbeddedTLS struct {
	// CAFile verifies clients and peers (and the member, for its client).
	CAFile string
	// ServerCertFile and ServerKeyFile serve clients.
	ServerCertFile, ServerKeyFile string
	// PeerCertFile and PeerKeyFile serve (and dial) peers.
	PeerCertFile, PeerKeyFile string
	// ClientCertFile and ClientKeyFile are the member's own client's.
	ClientCertFile, ClientKeyFile string
}

func (t *EmbeddedTLS) scheme() string {
	if t == nil {
		return "http"
	}
	return "https"
}

func (t *EmbeddedTLS) validate() error {
	for name, f := range map[string]string{"CAFile": t.CAFile, "ServerCertFile": t.ServerCertFile, "ServerKeyFile": t.ServerKeyFile,
		"PeerCertFile": t.PeerCertFile, "PeerKeyFile": t.PeerKeyFile, "ClientCertFile": t.ClientCertFile, "ClientKeyFile": t.ClientKeyFile} {
		if f == "" {
			return fmt.Errorf("TLS.%s is empty", name)
		}
	}
	return nil
}

// serverInfo requires and verifies a client certificate on every
// connection: etcd then refuses plain HTTP and anonymous TLS alike.
func (t *EmbeddedTLS) serverInfo(cert, key string) transport.TLSInfo {
	return transport.TLSInfo{CertFile: cert, KeyFile: key, TrustedCAFile: t.CAFile, ClientCertAuth: true, MinVersion: tls.VersionTLS12}
}

// clientConfig is the member's own client's TLS (nil without TLS).
func (t *EmbeddedTLS) clientConfig() (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: t.ClientCertFile, KeyFile: t.ClientKeyFile, TrustedCAFile: t.CAFile}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("client TLS: %w", err)
	}
	if c == nil {
		return nil, errors.New("client TLS: no configuration")
	}
	c.MinVersion = max(c.MinVersion, tls.VersionTLS12)
	return c, nil
}
