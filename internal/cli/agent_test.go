package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentRejectsBadWireGuardFlags: a bad WireGuard flag is reported,
// naming the flag, before the agent joins (no data directory, no server
// contacted: the server address leads nowhere).
func TestAgentRejectsBadWireGuardFlags(t *testing.T) {
	for _, tc := range []struct {
		flag, value string
	}{
		{"--wireguard-port", "0"},
		{"--wireguard-port", "65536"},
		{"--wireguard-interface", "a-very-long-interface"},
		{"--wireguard-interface", "wg/0"},
		{"--wireguard-interface", "wg 0"},
		{"--wireguard-interface", ".."},
		{"--wireguard-implementation", "fast"},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "agent")
			_, _, err := run(t, filepath.Join(t.TempDir(), "config"), "agent", "--server", "https://127.0.0.1:1",
				"--join-token", "abc123.xyz", "--node-name", "n1", "--address", "127.0.0.1", "--data-dir", dataDir,
				tc.flag, tc.value)
			if err == nil || !strings.HasPrefix(err.Error(), tc.flag+" ") {
				t.Fatalf("maestro agent %s %s: %v; want an error naming %s", tc.flag, tc.value, err, tc.flag)
			}
			if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
				t.Errorf("the agent made its data directory (%v) before rejecting %s", err, tc.flag)
			}
		})
	}
}
