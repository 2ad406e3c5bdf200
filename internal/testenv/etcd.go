package testenv

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// EtcdTLS are the certificate files of an etcd serving clients over TLS
// with client certificates required.
type EtcdTLS struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

// StartEtcd runs Debian's etcd-server (MAESTRO_TEST_ETCD overrides the
// binary) as a stand-in external cluster: one member on free loopback
// ports with a temporary data directory, killed when the test ends. It
// returns the client URL once etcd answers.
func StartEtcd(t testing.TB, tlsFiles *EtcdTLS) string {
	t.Helper()
	return StartEtcdProcess(t, tlsFiles).URL
}

// EtcdProcess is an external etcd started by StartEtcdProcess.
type EtcdProcess struct {
	// URL is the client URL.
	URL string
	cmd *exec.Cmd
}

// Pause stops the etcd process (SIGSTOP), as a hung machine or a long
// stall would: connections stay open and nothing answers.
func (p *EtcdProcess) Pause() error { return p.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused etcd (SIGCONT).
func (p *EtcdProcess) Resume() error { return p.cmd.Process.Signal(syscall.SIGCONT) }

// StartEtcdProcess is StartEtcd, returning the process as well.
func StartEtcdProcess(t testing.TB, tlsFiles *EtcdTLS) *EtcdProcess {
	t.Helper()
	bin := os.Getenv("MAESTRO_TEST_ETCD")
	if bin == "" {
		bin = RequireTool(t, "etcd", "install Debian's etcd-server package (apt-get install etcd-server; `make test` does this)")
	} else if _, err := os.Stat(bin); err != nil {
		testreq.Missing(t, "etcd at MAESTRO_TEST_ETCD=%s: %v", bin, err)
	}
	var lastErr error
	for attempt := 1; attempt <= 5; attempt++ {
		p, err := tryStartEtcd(t, bin, tlsFiles)
		if err == nil {
			return p
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
		t.Logf("external etcd lost a port race (attempt %d); retrying", attempt)
	}
	t.Fatalf("starting external etcd: %v", lastErr)
	return nil
}

func tryStartEtcd(t testing.TB, bin string, tlsFiles *EtcdTLS) (*EtcdProcess, error) {
	clientAddr, peerAddr := FreeAddr(t), FreeAddr(t)
	// tmpfs when there is one: etcd 3.4 has no --unsafe-no-fsync.
	dir, err := os.MkdirTemp(cmp.Or(shm(), os.TempDir()), "maestro-etcd-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	clientURL, peerURL := "http://"+clientAddr, "http://"+peerAddr
	dial := store.ExternalConfig{DialTimeout: time.Second}
	var extra []string
	if tlsFiles != nil {
		clientURL = "https://" + clientAddr
		extra = []string{"--cert-file", tlsFiles.ServerCert, "--key-file", tlsFiles.ServerKey,
			"--trusted-ca-file", tlsFiles.CA, "--client-cert-auth"}
		dial.CAFile, dial.CertFile, dial.KeyFile = tlsFiles.CA, tlsFiles.ClientCert, tlsFiles.ClientKey
	}
	dial.Endpoints = []string{clientURL}
	cmd := exec.Command(bin, append([]string{
		"--name", "external", "--data-dir", dir,
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "external=" + peerURL, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
	}, extra...)...)
	// etcd reads ETCD_* variables as flags: keep the caller's out.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		client, err := store.DialExternal(ctx, dial)
		cancel()
		if err == nil {
			client.Close()
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("external etcd output:\n%s", out.String())
				}
			})
			return &EtcdProcess{URL: clientURL, cmd: cmd}, nil
		}
		select {
		case werr := <-exited:
			return nil, fmt.Errorf("etcd exited (%v):\n%s", werr, out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("etcd not healthy within 30s: %w\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func shm() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for a subprocess's two output streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
