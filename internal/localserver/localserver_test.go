package localserver

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestResolveListen(t *testing.T) {
	got, err := ResolveListen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(got)
	if host != "127.0.0.1" || port == "0" || port == "" {
		t.Errorf("ResolveListen(127.0.0.1:0) = %q, want 127.0.0.1 and a chosen port", got)
	}
	if got, _ := ResolveListen("127.0.0.1:7443"); got != "127.0.0.1:7443" {
		t.Errorf("a fixed port changed: %q", got)
	}
	if _, err := ResolveListen("localhost"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("missing port: err = %v", err)
	}
}

// A server started again on a data dir gets its old port back while it
// is free, and a new one when it is taken or the request changed.
func TestChooseListen(t *testing.T) {
	dir := t.TempDir()
	old, err := ResolveListen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeRecord(dir, Record{Listen: old, RequestedListen: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := ChooseListen(dir, "127.0.0.1:0"); got != old {
		t.Errorf("ChooseListen = %q, want the recorded %q", got, old)
	}
	if got, _ := ChooseListen(dir, "127.0.0.1:7443"); got != "127.0.0.1:7443" {
		t.Errorf("a changed request kept the old port: %q", got)
	}
	ln, err := net.Listen("tcp", old)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got, _ := ChooseListen(dir, "127.0.0.1:0"); got == old || strings.HasSuffix(got, ":0") {
		t.Errorf("ChooseListen = %q with %q taken, want another free port", got, old)
	}
}

func TestResolveBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "terraform-provider-maestro")
	beside := filepath.Join(dir, "maestro")
	if err := os.WriteFile(beside, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	executable := func() (string, error) { return exe, nil }
	noExe := func() (string, error) { return "", errors.New("none") }
	path := func(name string) (string, error) {
		if name == "maestro" {
			return "/usr/bin/maestro", nil
		}
		if filepath.IsAbs(name) {
			return name, nil
		}
		return "", errors.New("not found")
	}
	noPath := func(string) (string, error) { return "", errors.New("not found") }
	for _, tt := range []struct {
		name, explicit string
		exe            func() (string, error)
		look           func(string) (string, error)
		want, wantErr  string
	}{
		{name: "explicit", explicit: "/opt/maestro", exe: executable, look: path, want: "/opt/maestro"},
		{name: "explicit missing", explicit: "nope", exe: executable, look: path, wantErr: `binary "nope"`},
		{name: "beside the provider", exe: executable, look: path, want: beside},
		{name: "from PATH", exe: noExe, look: path, want: "/usr/bin/maestro"},
		{name: "nowhere", exe: noExe, look: noPath, wantErr: "set binary"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveBinary(tt.explicit, tt.exe, tt.look)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveBinary = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// A server started here outlives nothing but its supervisor: it answers,
// comes back on the same endpoint when it dies, refuses a second start on
// the same data dir, and Stop leaves no process and no data dir.
func TestStartCheckStop(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	dir := filepath.Join(t.TempDir(), "server")
	listen, err := ResolveListen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec, cfg, err := Start(ctx, Spec{DataDir: dir, Listen: listen, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Stop(dir, 30*time.Second) })
	if cfg.Server != "https://"+listen || cfg.Token == "" || !strings.Contains(cfg.CertificateAuthorityData, "BEGIN CERTIFICATE") {
		t.Fatalf("client config: server %q, token set %v, CA %d bytes", cfg.Server, cfg.Token != "", len(cfg.CertificateAuthorityData))
	}
	if _, _, err := Start(ctx, Spec{DataDir: dir, Listen: listen, Binary: bin}); err == nil || !strings.Contains(err.Error(), "already runs") {
		t.Fatalf("second start: err = %v, want already runs", err)
	}

	server := childOf(t, rec.PID)
	if err := syscall.Kill(server, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := Check(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			t.Fatal("the supervisor died with its server")
		}
		if st.ReadyErr == nil && st.Config.Server == cfg.Server {
			if again := childOf(t, rec.PID); again != server {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not come back: %v\n%s", st.ReadyErr, LogTail(dir, 20))
		}
		time.Sleep(200 * time.Millisecond)
	}

	if err := Stop(dir, 45*time.Second); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(rec.PID, 0) == nil && aliveAny(rec.PID) {
		t.Errorf("supervisor %d still runs", rec.PID)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir left behind: %v", err)
	}
	if st, err := Check(ctx, dir); err == nil {
		t.Errorf("Check after Stop = %+v, want an error", st)
	}
}

// childOf is a child of pid (Linux /proc).
func childOf(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Children are listed per thread of the parent.
		files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
		for _, file := range files {
			b, _ := os.ReadFile(file)
			if f := strings.Fields(string(b)); len(f) > 0 {
				n, _ := strconv.Atoi(f[0])
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisor %d has no child", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A server that cannot start (its port is taken) fails Start with its
// log, and leaves no process and no data dir behind.
func TestStartFailureCleansUp(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "server")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err = Start(ctx, Spec{DataDir: dir, Listen: ln.Addr().String(), Binary: bin})
	if err == nil {
		t.Fatal("Start succeeded on a taken port")
	}
	if !strings.Contains(err.Error(), "last lines of the server log") {
		t.Errorf("error without the server's log: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir left behind: %v", err)
	}
}
