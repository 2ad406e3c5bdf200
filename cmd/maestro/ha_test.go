package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// maestroBin is the binary under test, built once by TestMain.
var maestroBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maestro-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	maestroBin = filepath.Join(dir, "maestro")
	if out, err := exec.Command("go", "build", "-o", maestroBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building maestro: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a `maestro server` process.
type server struct {
	cmd    *exec.Cmd
	log    *testenv.SyncBuffer
	config string
	exited chan struct{}
}

func startServer(t *testing.T, etcd, keyFile string) *server {
	t.Helper()
	dir := t.TempDir()
	return runServer(t, filepath.Join(dir, "config"), "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0",
		"--etcd-endpoints", etcd, "--encryption-key-file", keyFile)
}

// runServer starts `maestro server` with args, writing its client config
// to config, and waits until it serves.
func runServer(t *testing.T, config string, args ...string) *server {
	t.Helper()
	s := &server{log: &testenv.SyncBuffer{}, config: config, exited: make(chan struct{})}
	s.cmd = exec.Command(maestroBin, append(append([]string{"server"}, args...), "--client-config", s.config, "--log-level", "info")...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("server log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := client.FromConfigFile(s.config); err == nil {
			if _, err := c.Version(context.Background()); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not serving within 30s:\n%s", s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) leading() bool {
	log := s.log.String()
	return strings.LastIndex(log, "acquired leadership") > strings.LastIndex(log, "stepped down")
}

func (s *server) client(t *testing.T) *client.Client {
	c, err := client.FromConfigFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLeaderFailover runs two servers on one external etcd: one leads the
// scheduler and controllers; killing it hands scheduling to the other.
func TestLeaderFailover(t *testing.T) {
	etcd := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "key")
	a := startServer(t, etcd, keyFile)
	b := startServer(t, etcd, keyFile)
	var leader, standby *server
	deadline := time.Now().Add(20 * time.Second)
	for leader == nil {
		switch {
		case a.leading() && b.leading():
			t.Fatal("both servers lead")
		case a.leading():
			leader, standby = a, b
		case b.leading():
			leader, standby = b, a
		case time.Now().After(deadline):
			t.Fatal("no server took leadership within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := standby.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet := simnode.NewFleet(simnode.Config{Client: c, Log: testenv.Logger(t)})
	if _, err := fleet.Add(ctx, simnode.NodeSpec{Name: "sim-0", Zone: "zone-a"}); err != nil {
		t.Fatal(err)
	}
	go fleet.Run(ctx)

	bound := func(name string, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "demo:1"}}}}
		if _, err := c.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		for time.Since(start) < within {
			if got, err := c.Pods("default").Get(ctx, name); err == nil && got.Spec.NodeName != "" {
				return time.Since(start)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("pod %s not bound within %s", name, within)
		return 0
	}
	bound("before-failover", 10*time.Second)

	killed := time.Now()
	if err := leader.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-leader.exited
	bound("after-failover", 15*time.Second)
	took := time.Since(killed)
	if !standby.leading() {
		t.Fatalf("the standby did not take leadership:\n%s", standby.log.String())
	}
	t.Logf("scheduling resumed %s after the leader was killed", took.Round(100*time.Millisecond))
	if took > 15*time.Second {
		t.Fatalf("failover took %s, want <= 15s", took)
	}
}
