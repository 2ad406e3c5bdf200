package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With this variable set the test binary is maestro-demo itself, so the
// tests below can run the real main (signals, exit codes) as a process.
const mainEnv = "MAESTRO_DEMO_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParseConfig(t *testing.T) {
	base := config{port: 8080, version: "v1", exitCode: 1, podName: "host-1", hostname: "host-1"}
	with := func(f func(*config)) config { c := base; f(&c); return c }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "defaults", want: base},
		{name: "environment", env: map[string]string{"PORT": "9000", "VERSION": "v7", "POD_NAME": "web-1", "POD_NAMESPACE": "shop"},
			want: with(func(c *config) { c.port, c.version, c.podName, c.namespace = 9000, "v7", "web-1", "shop" })},
		{name: "flags win over environment", args: []string{"--port=9001", "--version", "v8"},
			env:  map[string]string{"PORT": "9000", "VERSION": "v7"},
			want: with(func(c *config) { c.port, c.version = 9001, "v8" })},
		{name: "fault flags",
			args: []string{"--exit-after=2s", "--exit-code=3", "--unready-after=1s", "--fail-health-after=1500ms",
				"--ignore-sigterm", "--shutdown-delay=5s", "--udp-port=9999"},
			want: with(func(c *config) {
				c.exitAfter, c.exitCode, c.unreadyAfter, c.failHealthAfter = 2*time.Second, 3, time.Second, 1500*time.Millisecond
				c.ignoreSIGTERM, c.shutdownDelay, c.udpPort = true, 5*time.Second, 9999
			})},
		{name: "chain flags", args: []string{"--upstream=http://backend/", "--counter-file", "/data/visits"},
			want: with(func(c *config) { c.upstream, c.counterFile = "http://backend/", "/data/visits" })},
		{name: "chain environment", env: map[string]string{"UPSTREAM": "http://store:8080/", "COUNTER_FILE": "/v", "NODE_NAME": "node-2"},
			want: with(func(c *config) { c.upstream, c.counterFile, c.nodeName = "http://store:8080/", "/v", "node-2" })},
		{name: "chain flags win over environment", args: []string{"--upstream=https://a/", "--counter-file=/f"},
			env:  map[string]string{"UPSTREAM": "http://b/", "COUNTER_FILE": "/e"},
			want: with(func(c *config) { c.upstream, c.counterFile = "https://a/", "/f" })},
		{name: "upstream without scheme", args: []string{"--upstream=backend"}, wantErr: `--upstream="backend"`},
		{name: "bad UPSTREAM", env: map[string]string{"UPSTREAM": "ftp://x/"}, wantErr: `--upstream="ftp://x/"`},
		{name: "bad PORT", env: map[string]string{"PORT": "http"}, wantErr: `$PORT="http"`},
		{name: "port out of range", args: []string{"--port=70000"}, wantErr: "--port=70000"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "nope"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, "host-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// demoProcess is the real main running in a child process.
type demoProcess struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line
	exited chan error
	port   int
}

func startDemo(t *testing.T, args ...string) *demoProcess {
	t.Helper()
	port := freePort(t, "tcp")
	cmd := exec.Command(os.Args[0], append([]string{fmt.Sprintf("--port=%d", port)}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1", "POD_NAME=demo-1", "POD_NAMESPACE=test")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &demoProcess{cmd: cmd, lines: make(chan string, 100), exited: make(chan error, 1), port: port}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		for range p.lines {
		}
	})
	p.expectLine(t, fmt.Sprintf("maestro-demo listening on :%d version=v1 pod=demo-1", port))
	return p
}

// expectLine waits for a log line starting with prefix.
func (p *demoProcess) expectLine(t *testing.T, prefix string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("output ended before %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no line %q within 10s", prefix)
		}
	}
}

// exitCode waits for the process to end and returns its exit status.
func (p *demoProcess) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	go func() {
		for range p.lines {
		}
	}()
	select {
	case err := <-p.exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("still running after %s", within)
		return -1
	}
}

func TestProcessSignals(t *testing.T) {
	t.Run("SIGTERM exits 0 after the shutdown delay", func(t *testing.T) {
		p := startDemo(t, "--shutdown-delay=300ms")
		start := time.Now()
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.expectLine(t, "received SIGTERM, shutting down")
		if code := p.exitCode(t, 5*time.Second); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("exited after %s, before the shutdown delay", d)
		}
	})
	t.Run("SIGTERM ignored", func(t *testing.T) {
		p := startDemo(t, "--ignore-sigterm")
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.expectLine(t, "received SIGTERM, ignoring it")
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", p.port))
		if err != nil {
			t.Fatalf("not serving after SIGTERM: %v", err)
		}
		resp.Body.Close()
		p.cmd.Process.Signal(syscall.SIGKILL)
		if code := p.exitCode(t, 5*time.Second); code != -1 {
			t.Errorf("exit status %d, want killed", code)
		}
	})
}

func TestProcessExitAfter(t *testing.T) {
	p := startDemo(t, "--exit-after=200ms", "--exit-code=7")
	if code := p.exitCode(t, 5*time.Second); code != 7 {
		t.Errorf("exit status %d, want 7", code)
	}
}

func TestProcessExitRequest(t *testing.T) {
	p := startDemo(t)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/exit?code=4", p.port), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "exiting with code 4\n" {
		t.Errorf("answer %q", body)
	}
	if code := p.exitCode(t, 5*time.Second); code != 4 {
		t.Errorf("exit status %d, want 4", code)
	}
}

func TestProcessFaultTimers(t *testing.T) {
	p := startDemo(t, "--unready-after=100ms", "--fail-health-after=200ms")
	p.expectLine(t, "now not ready")
	p.expectLine(t, "now failing health checks")
	for path, want := range map[string]int{"/readyz": 503, "/healthz": 500} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestUDPEcho(t *testing.T) {
	udpPort := freePort(t, "udp")
	startDemo(t, fmt.Sprintf("--udp-port=%d", udpPort))
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	for _, payload := range []string{"hello", "again"} {
		if _, err := conn.Write([]byte(payload)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1024)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(buf[:n]), "pod=demo-1 from="+conn.LocalAddr().String()+" "+payload; got != want {
			t.Errorf("reply %q, want %q", got, want)
		}
	}
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestProcessCounterSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "visits")
	visit := func(p *demoProcess) string {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", p.port))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	first := startDemo(t, "--counter-file="+file)
	for _, want := range []string{"visits=1\n", "visits=2\n"} {
		if got := visit(first); !strings.HasSuffix(got, want) {
			t.Errorf("answer %q, want it to end in %q", got, want)
		}
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if code := first.exitCode(t, 5*time.Second); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	second := startDemo(t, "--counter-file="+file)
	if got, want := visit(second), "pod=demo-1 namespace=test version=v1 host="; !strings.HasPrefix(got, want) ||
		!strings.HasSuffix(got, " visits=3\n") {
		t.Errorf("after a restart the answer is %q, want %q... visits=3", got, want)
	}
}
