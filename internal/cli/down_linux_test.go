package cli

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestDownRemovesPodNetworksOfAKilledUp: `maestro down` of a cluster
// whose `maestro up` was killed removes its nodes' bridges and rules (a
// new up with the same slot's pod range would otherwise find two bridges
// with one gateway), and leaves another cluster's alone. It runs in a
// network namespace of its own.
func TestDownRemovesPodNetworksOfAKilledUp(t *testing.T) {
	testreq.Root(t, "bridges and firewall rules of pod networks")
	if _, err := exec.LookPath("ip"); err != nil {
		testreq.Missing(t, "iproute2 (ip) to make the test's namespace")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	nsName := "mstt-" + id + "-down"
	if out, err := exec.Command("ip", "netns", "add", nsName).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsName).Run() })
	dead, other := "test-"+id+"-dead", "test-"+id+"-other"
	nodes := []string{"maestro-node-1", "maestro-node-2"}

	// A dead up: its pid is that of a process that has ended.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	if err := writeUpState(filepath.Join(dataDir, "up.json"), upState{PID: gone.Process.Pid, Runtime: "process",
		Cluster: dead, Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	var stdout string
	var runErr error
	inNetNS(t, nsName, func() {
		for i, n := range nodes {
			for _, c := range []string{dead, other} {
				cidr := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24)
				if _, err := network.Setup(t.Context(), network.Config{NodeName: n, ClusterID: c, PodCIDR: cidr,
					ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), StateDir: t.TempDir()}); err != nil {
					t.Error(err)
					return
				}
			}
		}
		stdout, _, runErr = run(t, filepath.Join(t.TempDir(), "config"), "down", "--data-dir", dataDir)
	})
	if runErr != nil || !strings.Contains(stdout, "stopped") {
		t.Fatalf("maestro down: %q, %v", stdout, runErr)
	}
	links, err := exec.Command("ip", "netns", "exec", nsName, "ip", "link", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link: %v: %s", err, links)
	}
	for _, n := range nodes {
		if br := network.BridgeName(dead, n); strings.Contains(string(links), br) {
			t.Errorf("bridge %s of the dead cluster's node %s is still there after maestro down", br, n)
		}
		if br := network.BridgeName(other, n); !strings.Contains(string(links), br) {
			t.Errorf("bridge %s of another cluster's node %s is gone after maestro down", br, n)
		}
	}
}

// inNetNS runs fn on a thread inside the named namespace.
func inNetNS(t *testing.T, name string, fn func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread dies with the goroutine
		h, err := netns.GetFromName(name)
		if err == nil {
			defer h.Close()
			err = netns.Set(h)
		}
		if err == nil {
			fn()
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("entering %s: %v", name, err)
	}
}
