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

// EtcdProcess is an external etcd member a test can pause, kill and
// restart, to play an outage.
type EtcdProcess struct {
	// URL is the client URL; it stays the same across restarts.
	URL string

	t    testing.TB
	bin  string
	args []string
	dial store.ExternalConfig
	out  *syncBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error
}

// StartEtcdProcess is StartEtcd returning the process.
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
			t.Cleanup(func() {
				p.Kill()
				if t.Failed() {
					t.Logf("external etcd output:\n%s", p.out.String())
				}
			})
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
	p := &EtcdProcess{URL: clientURL, t: t, bin: bin, dial: dial, out: &syncBuffer{}, args: append([]string{
		"--name", "external", "--data-dir", dir,
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "external=" + peerURL, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
	}, extra...)}
	return p, p.start()
}

// start runs the process and waits until etcd answers.
func (p *EtcdProcess) start() error {
	cmd := exec.Command(p.bin, p.args...)
	// etcd reads ETCD_* variables as flags: keep the caller's out.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		client, err := store.DialExternal(ctx, p.dial)
		cancel()
		if err == nil {
			client.Close()
			return nil
		}
		select {
		case werr := <-exited:
			exited <- werr
			return fmt.Errorf("etcd exited (%v):\n%s", werr, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("etcd not healthy within 30s: %w\n%s", err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Pause stops the process (SIGSTOP): its sockets stay open and requests
// hang, as with a member stuck on a disk or cut off by a partition.
func (p *EtcdProcess) Pause() { p.signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (p *EtcdProcess) Resume() { p.signal(syscall.SIGCONT) }

func (p *EtcdProcess) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling etcd: %v", err)
	}
}

// Kill ends the process (SIGKILL) and waits for it; the data stays.
func (p *EtcdProcess) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	werr := <-exited
	exited <- werr // a second Kill returns at once
}

// Restart starts a killed member again on its data directory and ports,
// and waits until it answers.
func (p *EtcdProcess) Restart() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatalf("restarting etcd: %v", err)
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
