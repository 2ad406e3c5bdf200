//go:build linux

package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An iptables command waits a bounded time for the xtables lock (-w 5)
// and is killed when it hangs, so a stuck iptables cannot hold the node's
// rules lock, and with it every pod start, for ever.
func TestIptablesIsBounded(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	old := iptTimeout
	iptTimeout = 300 * time.Millisecond
	t.Cleanup(func() { iptTimeout = old })

	start := time.Now()
	err := ipt(t.Context(), "-t", "nat", "-F", "MSTPOST-x")
	if err == nil {
		t.Fatal("a hung iptables returned no error")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung iptables returned after %v, want about %v", d, iptTimeout)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(args), "-w 5 -t nat -F MSTPOST-x") {
		t.Errorf("iptables args %q, want a bounded lock wait (-w 5) first", args)
	}
}
