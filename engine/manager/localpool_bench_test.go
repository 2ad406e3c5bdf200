package manager_test

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// BenchmarkLocalMachineReady measures a local machine from its Machine
// object created to its node Ready: join token, process start, the
// agent's join (CSR, credentials), registration and first Ready status,
// and the controller seeing it (target <= 2 s). Deleting each machine is
// outside the timer.
func BenchmarkLocalMachineReady(b *testing.B) {
	b.Run("host-network", func(b *testing.B) { benchMachineReady(b, startLocalPools(b)) })
	b.Run("emulated-host", func(b *testing.B) { benchMachineReady(b, startLocalPoolsOn(b, benchNetwork())) })
}

// benchNetwork is a machine network of this test process's own (bridge
// and subnet from its pid), so parallel runs and other clusters on the
// machine are not touched.
func benchNetwork() *local.Network {
	pid := os.Getpid()
	return &local.Network{Bridge: fmt.Sprintf("mbench%d", pid%100000),
		Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 171, byte(pid % 250), 0}), 24)}
}

func benchMachineReady(b *testing.B, lp *localPools) {
	if _, err := lp.Client.NodePools().Create(lp.Ctx, localPool("bench", 0)); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("bench-m%d", i)
		start := time.Now()
		_, err := lp.Client.Machines().Create(lp.Ctx, &api.Machine{ObjectMeta: api.ObjectMeta{Name: name},
			Spec: api.MachineSpec{Pool: "bench", Provider: api.ProviderLocal}})
		if err != nil {
			b.Fatal(err)
		}
		for {
			m, err := lp.Client.Machines().Get(lp.Ctx, name)
			if err == nil && m.Status.Phase == api.MachineRunning {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("machine %s not Running within a minute: %+v", name, m.Status)
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		if err := lp.Client.Machines().Delete(lp.Ctx, name); err != nil {
			b.Fatal(err)
		}
		cluster.Eventually(b, time.Minute, "machine "+name+" gone", func() (bool, string) {
			_, err := lp.Client.Machines().Get(lp.Ctx, name)
			return api.IsNotFound(err), fmt.Sprint(err)
		})
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "create-to-ready-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkLocalPoolScale0To10 measures a local pool scaled from 0 to 10
// machines until all 10 nodes are Ready (report); scaling back to 0 is
// outside the timer.
func BenchmarkLocalPoolScale0To10(b *testing.B) {
	b.Run("host-network", func(b *testing.B) { benchScale0To10(b, startLocalPools(b)) })
	b.Run("emulated-host", func(b *testing.B) { benchScale0To10(b, startLocalPoolsOn(b, benchNetwork())) })
}

func benchScale0To10(b *testing.B, lp *localPools) {
	if _, err := lp.Client.NodePools().Create(lp.Ctx, localPool("bench", 0)); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		lp.editPool(b, "bench", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](10) })
		ms := lp.waitReady(b, "bench", 10, 3*time.Minute)
		total += time.Since(start)
		b.StopTimer()
		var each []time.Duration // machine created -> its node first Ready
		for _, m := range ms {
			if m.Status.NodeReadyAt != nil {
				each = append(each, m.Status.NodeReadyAt.Sub(m.CreationTimestamp).Round(10*time.Millisecond))
			}
		}
		slices.Sort(each)
		b.Logf("10 Ready after %s; each machine created -> node first Ready: %v", time.Since(start).Round(10*time.Millisecond), each)
		lp.editPool(b, "bench", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](0) })
		cluster.Eventually(b, 3*time.Minute, "pool back to 0", func() (bool, string) {
			ms, _, err := lp.Client.Machines().List(lp.Ctx, client.ListOptions{})
			return err == nil && len(ms) == 0, fmt.Sprint(len(ms))
		})
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-10-ready")
	b.ReportMetric(0, "ns/op")
}
