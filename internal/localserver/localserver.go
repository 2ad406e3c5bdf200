package localserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
)

// Files in the data directory besides the server's own.
const (
	RecordFile       = "supervisor.json"
	ClientConfigFile = "client-config.yaml"
	LogFile          = "server.log"
)

// Spec is the server to run.
type Spec struct {
	// DataDir is the server's data directory (absolute).
	DataDir string
	// Listen is the API's host:port; port 0 picks a free port now, which
	// is then kept across restarts.
	Listen string
	// AdvertiseAddress is the host clients use ("" = the listen host).
	AdvertiseAddress string
	// Binary is the maestro executable.
	Binary string
	// RequestedListen is the listen address as the user gave it (port 0
	// before ResolveListen), recorded for import.
	RequestedListen string
	// Args are more `maestro server` flags (--service-cidr=..., ...).
	Args []string
}

// Record is what the data directory remembers of the running server.
type Record struct {
	// PID is the supervisor's; it leads its own session and process group.
	PID              int       `json:"pid"`
	Listen           string    `json:"listen"`
	RequestedListen  string    `json:"requestedListen,omitempty"`
	AdvertiseAddress string    `json:"advertiseAddress,omitempty"`
	Binary           string    `json:"binary"`
	Args             []string  `json:"args,omitempty"`
	StartedAt        time.Time `json:"startedAt"`
}

// ErrNotRunning says no server of ours runs in a data directory.
var ErrNotRunning = errors.New("no maestro server runs there")

// ResolveListen turns port 0 into a free port of the host, so that the
// endpoint stays the same when the supervisor restarts the server.
func ResolveListen(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen %q: want host:port, e.g. 127.0.0.1:0: %w", listen, err)
	}
	if port != "0" {
		return listen, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer ln.Close()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, port), nil
}

// ChooseListen is ResolveListen for a data directory: a server started
// again on the data directory of one that died gets the port it had, when
// that is free, so the endpoint (which its nodes were given) stays.
func ChooseListen(dataDir, requested string) (string, error) {
	if rec, err := Load(dataDir); err == nil && rec.RequestedListen == requested && rec.Listen != "" {
		if ln, err := net.Listen("tcp", rec.Listen); err == nil {
			ln.Close()
			return rec.Listen, nil
		}
	}
	return ResolveListen(requested)
}

// ResolveBinary finds the maestro executable: explicit if set, else
// `maestro` beside the running executable (the provider's), else in
// $PATH.
func ResolveBinary(explicit string, executable func() (string, error), lookPath func(string) (string, error)) (string, error) {
	if explicit != "" {
		p, err := lookPath(explicit)
		if err != nil {
			return "", fmt.Errorf("binary %q: %w", explicit, err)
		}
		return filepath.Abs(p)
	}
	if exe, err := executable(); err == nil {
		beside := filepath.Join(filepath.Dir(exe), "maestro")
		if st, err := os.Stat(beside); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return beside, nil
		}
	}
	p, err := lookPath("maestro")
	if err != nil {
		return "", fmt.Errorf("no maestro binary beside the provider nor in $PATH; set binary to its path: %w", err)
	}
	return filepath.Abs(p)
}

// Command is the argv that runs the server under the supervisor.
func (s Spec) Command() []string {
	argv := []string{s.Binary, "supervise", "--log-format", "json", "--",
		s.Binary, "server", "--data-dir", s.DataDir, "--listen", s.Listen,
		"--client-config", filepath.Join(s.DataDir, ClientConfigFile), "--log-format", "json"}
	if s.AdvertiseAddress != "" {
		argv = append(argv, "--advertise-address", s.AdvertiseAddress)
	}
	return append(argv, s.Args...)
}

// Load reads the record of a data directory.
func Load(dataDir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dataDir, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("%w: %s has no %s", ErrNotRunning, dataDir, RecordFile)
	}
	if err != nil {
		return r, fmt.Errorf("reading the server record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("parsing %s: %w", filepath.Join(dataDir, RecordFile), err)
	}
	return r, nil
}

func writeRecord(dataDir string, r Record) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	tmp := filepath.Join(dataDir, RecordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing the server record: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dataDir, RecordFile))
}

// ClientConfig reads the client config the server wrote.
func ClientConfig(dataDir string) (client.Config, error) {
	return client.LoadConfig(filepath.Join(dataDir, ClientConfigFile))
}

// Ready asks the server's /readyz with the CA of cfg.
func Ready(ctx context.Context, cfg client.Config) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(cfg.CertificateAuthorityData)) {
		return errors.New("the client config has no CA certificate")
	}
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Server, "/")+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz answered %s", resp.Status)
	}
	return nil
}

// LogTail is the last n lines of the server's log, for error messages.
func LogTail(dataDir string, n int) string {
	b, err := os.ReadFile(filepath.Join(dataDir, LogFile))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lookPath is exec.LookPath, for ResolveBinary's callers.
var LookPath = exec.LookPath
