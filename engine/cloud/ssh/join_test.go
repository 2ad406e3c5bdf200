//go:build linux

package ssh

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testbed"
)

// cluster is a control plane in the bed's last host; the other hosts
// become its machines.
type cluster struct {
	*bed
	srv *testbed.Server
}

func newCluster(t testing.TB, machines int) *cluster {
	t.Helper()
	b := newBed(t, machines)
	cp := b.tb.AddHost(b.site, "cp")
	return &cluster{bed: b, srv: b.tb.StartServer(cp, testbed.ServerOptions{})}
}

// request is a request for machine name on host i, bootstrapped with a
// fresh single-use join token for that node.
func (c *cluster) request(t testing.TB, name string, i int) cloud.MachineRequest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := c.srv.Client.CreateToken(ctx, api.TokenRequest{Role: "join", Node: name, Uses: 1, TTLSeconds: 600})
	if err != nil {
		t.Fatal(err)
	}
	req := cloudtest.Request(name, "c1", "p1")
	req.Host = c.host(i)
	req.Bootstrap = cloud.Bootstrap{ServerURL: c.srv.URL, CAPEM: []byte(c.srv.Config.CertificateAuthorityData),
		JoinToken: cloud.Secret(tok.Token)}
	return req
}

// agentArgs run the agent with the process runtime (no Docker needed).
var agentArgs = []string{"--runtime", "process", "--heartbeat-interval", "1s"}

// waitReady waits until node name is Ready and has the pool's label.
func (c *cluster) waitReady(ctx context.Context, name string) error {
	var last string
	for {
		n, err := c.srv.Client.Nodes().Get(ctx, name)
		switch {
		case err != nil:
			last = err.Error()
		case !api.IsNodeReady(n):
			last = "not Ready"
		case n.Labels[api.LabelNodePool] != "p1":
			return fmt.Errorf("node %s labels %v, want the pool's", name, n.Labels)
		default:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s: %s", name, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestMachineJoinsCluster: a machine made by the ssh cloud (the real
// maestro binary uploaded, the agent started over SSH) joins a real
// control plane as a Ready node with its pool's labels; Delete stops it.
func TestMachineJoinsCluster(t *testing.T) {
	c := newCluster(t, 1)
	o := c.options(t, maestroBinary(t))
	o.AgentArgs = agentArgs
	cl := c.newCloud(t, o)
	start := time.Now()
	m, err := cl.Create(t.Context(), c.request(t, "worker-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if err := c.waitReady(ctx, "worker-1"); err != nil {
		logs, _ := cl.Logs(context.Background(), m.ID, 40)
		t.Fatalf("%v; agent log:\n%s", err, logs)
	}
	t.Logf("create to node Ready: %v", time.Since(start))
	if err := cl.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := cl.Get(t.Context(), m.ID); err == nil {
		t.Errorf("Get after Delete: %+v", got)
	}
}

// BenchmarkSSHMachineCreate measures Create until the agent's process runs
// on the host, the binary upload included (a fresh install dir each time),
// with the real maestro binary.
func BenchmarkSSHMachineCreate(b *testing.B) {
	bd := newBed(b, 1)
	bin := maestroBinary(b)
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		o := bd.options(b, bin, filepath.Join(dir, fmt.Sprint(i)))
		c := bd.newCloud(b, o)
		req := cloudtest.Request(fmt.Sprintf("m%d", i), "c1", "p1")
		req.Host = bd.host(0)
		m, err := c.Create(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if m.State != cloud.StateRunning {
			b.Fatalf("machine %s: %s after Create, want running", m.ID, m.State)
		}
		if err := c.Delete(b.Context(), m.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}

// BenchmarkSSHMachineNodeReady measures Create to the machine's node Ready
// on a real control plane (the target: 10 s), the binary upload
// included (a fresh install dir each time).
func BenchmarkSSHMachineNodeReady(b *testing.B) {
	c := newCluster(b, 1)
	bin := maestroBinary(b)
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		o := c.options(b, bin, filepath.Join(dir, fmt.Sprint(i)))
		o.AgentArgs = agentArgs
		cl := c.newCloud(b, o)
		name := fmt.Sprintf("worker-%d", i)
		req := c.request(b, name, 0)
		b.StartTimer()
		m, err := cl.Create(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
		err = c.waitReady(ctx, name)
		cancel()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if err := cl.Delete(b.Context(), m.ID); err != nil {
			b.Fatal(err)
		}
		if err := c.srv.Client.Nodes().Delete(b.Context(), name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
