package runtimetest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// A killed test run's pod network (its process is gone) is removed by the
// next NewPodNetwork; a live one's is not.
func TestLeftoverNetworksRemoved(t *testing.T) {
	testreq.Root(t, "bridges")
	ctx := context.Background()
	leftover, err := network.Setup(ctx, network.Config{NodeName: "node-1", ClusterID: "test-2147483646-dead",
		PodCIDR: netip.MustParsePrefix("10.251.254.0/24"), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = leftover.Remove(ctx) })
	live := NewPodNetwork(t, randomHex(4))
	bridges, err := network.Bridges("test-")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bridges[leftover.Bridge]; ok {
		t.Errorf("the dead run's bridge %s is still there", leftover.Bridge)
	}
	if _, ok := bridges[live.Bridge]; !ok {
		t.Errorf("this run's bridge %s is missing from %v", live.Bridge, bridges)
	}
}
