package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names of the embedded etcd member's TLS material, in the PKI
// directory beside the cluster CA.
const (
	EtcdCACertFile     = "etcd-ca.crt"
	EtcdCAKeyFile      = "etcd-ca.key"
	EtcdServerCertFile = "etcd-server.crt"
	EtcdServerKeyFile  = "etcd-server.key"
	EtcdPeerCertFile   = "etcd-peer.crt"
	EtcdPeerKeyFile    = "etcd-peer.key"
	EtcdClientCertFile = "etcd-client.crt"
	EtcdClientKeyFile  = "etcd-client.key"

	// EtcdClientName is the common name of the API server's etcd client
	// certificate.
	EtcdClientName = "maestro-apiserver-etcd-client"
)

// EtcdTLS is an etcd member's TLS material, as files. It has the fields of
// the store's EmbeddedTLS, which it converts to: this package does not
// import the store (and with it etcd's server), so that what only makes
// certificates (the provider's SSH installer) stays small.
type EtcdTLS struct {
	// CAFile verifies clients and peers (and the member, for its client).
	CAFile string
	// ServerCertFile and ServerKeyFile serve clients.
	ServerCertFile, ServerKeyFile string
	// PeerCertFile and PeerKeyFile serve (and dial) peers.
	PeerCertFile, PeerKeyFile string
	// ClientCertFile and ClientKeyFile are the member's own client's.
	ClientCertFile, ClientKeyFile string
}

// etcdHosts are the names the embedded member serves on: it listens on
// loopback only.
var etcdHosts = []string{"127.0.0.1", "::1", "localhost"}

// EnsureEtcd creates (or renews, near expiry) the TLS material of the
// embedded etcd member in dir: a CA of its own, so that no certificate the
// cluster CA signs (the API server's, the client certificate it shows
// agents) opens the store; a serving and a peer certificate for loopback;
// and the one client certificate, the API server's. Keys are 0600.
func EnsureEtcd(dir string, now time.Time) (EtcdTLS, error) {
	return ensureEtcd(dir, etcdHosts, now)
}

// EnsureEtcdMember is EnsureEtcd for a member of an etcd cluster spread
// over hosts (an HA control plane): its serving and peer certificates
// cover hosts (the member's own names and addresses) besides loopback, so
// its peers and the API servers on other hosts can reach it. Every member
// made from the same CA files trusts the others.
func EnsureEtcdMember(dir string, hosts []string, now time.Time) (EtcdTLS, error) {
	return ensureEtcd(dir, append(slices.Clone(etcdHosts), hosts...), now)
}

func ensureEtcd(dir string, hosts []string, now time.Time) (EtcdTLS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return EtcdTLS{}, fmt.Errorf("creating pki directory: %w", err)
	}
	ca, caKey, _, err := ensureCA(dir, EtcdCACertFile, EtcdCAKeyFile, "maestro-etcd-ca", "etcd CA", now)
	if err != nil {
		return EtcdTLS{}, err
	}
	files := EtcdTLS{
		CAFile:         filepath.Join(dir, EtcdCACertFile),
		ServerCertFile: filepath.Join(dir, EtcdServerCertFile), ServerKeyFile: filepath.Join(dir, EtcdServerKeyFile),
		PeerCertFile: filepath.Join(dir, EtcdPeerCertFile), PeerKeyFile: filepath.Join(dir, EtcdPeerKeyFile),
		ClientCertFile: filepath.Join(dir, EtcdClientCertFile), ClientKeyFile: filepath.Join(dir, EtcdClientKeyFile),
	}
	// etcd dials its peers (and itself) with the serving and peer
	// certificates, so both carry client authentication too.
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	leaves := []struct {
		cert, key string
		spec      leafSpec
	}{
		{files.ServerCertFile, files.ServerKeyFile, leafSpec{commonName: "maestro-etcd", validity: serverValidity, hosts: hosts, usage: both}},
		{files.PeerCertFile, files.PeerKeyFile, leafSpec{commonName: "maestro-etcd-peer", validity: serverValidity, hosts: hosts, usage: both}},
		{files.ClientCertFile, files.ClientKeyFile, leafSpec{commonName: EtcdClientName, validity: serverValidity,
			usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}},
	}
	for _, l := range leaves {
		if cert, err := tls.LoadX509KeyPair(l.cert, l.key); err == nil && serverCertOK(cert, ca, l.spec.hosts, now) {
			continue
		}
		if err := issueLeaf(l.cert, l.key, ca, caKey, l.spec, now); err != nil {
			return EtcdTLS{}, err
		}
	}
	return files, nil
}
