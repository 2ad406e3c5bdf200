package localcluster_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// BenchmarkAgentIdle runs `maestro agent` as its own process with 100
// pods of the demo image, then measures its resident memory and cpu use
// over 30 s of steady state (heartbeats, resyncs, runtime polling, stats).
func BenchmarkAgentIdle(b *testing.B) {
	d := testenv.RequireDocker(b)
	demo, pause := testenv.DemoImage(b), testenv.PauseImage(b)
	bin := testenv.BuildBinary(b, "./cmd/maestro")
	c := cluster.Start(b)
	join, err := c.Client.CreateToken(c.Ctx, api.TokenRequest{Role: "join", TTLSeconds: 600, Node: "idle-agent", Addresses: []string{"127.0.97.1"}})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte(c.Config.CertificateAuthorityData), 0o600); err != nil {
		b.Fatal(err)
	}
	const node = "idle-agent"
	cmd := exec.Command(bin, "agent", "--server", c.Config.Server, "--ca-file", ca, "--join-token", join.Token,
		"--node-name", node, "--address", "127.0.97.1", "--port", "0", "--data-dir", filepath.Join(dir, "agent"),
		"--infra-image", pause, "--log-level", "warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		for _, ct := range dockerContainers(b, d, node) {
			_ = d.ContainerRemove(c.Ctx, ct.ID, removeForce)
		}
	})
	const pods = 100
	for i := range pods {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("idle-%d", i), Namespace: "default"}, Spec: api.PodSpec{
			NodeName:   node,
			Containers: []api.Container{{Name: "app", Image: demo, ImagePullPolicy: api.PullNever}},
		}}
		if _, err := c.Client.Pods("default").Create(c.Ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		pl := c.Pods(b, "default", "")
		ready := 0
		for _, p := range pl {
			if api.IsPodReady(p) {
				ready++
			}
		}
		if ready == pods {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d pods ready; agent log:\n%s", ready, pods, logs.String())
		}
		time.Sleep(time.Second)
	}
	time.Sleep(10 * time.Second) // settle: first stats samples, resyncs
	b.ResetTimer()
	var rss, cpu float64
	for range b.N {
		t0, c0 := time.Now(), cpuTicks(b, cmd.Process.Pid)
		time.Sleep(30 * time.Second)
		cpu += float64(cpuTicks(b, cmd.Process.Pid)-c0) / 100 / time.Since(t0).Seconds() * 100
		rss += rssMiB(b, cmd.Process.Pid)
	}
	b.ReportMetric(rss/float64(b.N), "rss-MiB")
	b.ReportMetric(cpu/float64(b.N), "cpu-%")
	b.ReportMetric(pods, "pods")
	b.ReportMetric(0, "ns/op")
}

// cpuTicks is a process's user+system time in clock ticks (100 Hz).
func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime
}

func rssMiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
