package network

import (
	"strings"
	"testing"
)

// TestEnableIPv4Forwarding: forwarding goes on in the namespace enter
// switches to, and only the first call
// reports a change.
func TestEnableIPv4Forwarding(t *testing.T) {
	run := netnsPrereqs(t)
	ns := newNS(t, run, "fwd")
	// A new namespace may inherit the host's setting: start from off.
	ns.exec(t, "sh", "-c", "echo 0 > "+ipForwardPath)
	enter := func(fn func() error) error {
		var err error
		ns.in(t, func() { err = fn() })
		return err
	}
	for i, want := range []bool{true, false} {
		changed, err := EnableIPv4Forwarding(enter)
		if err != nil || changed != want {
			t.Fatalf("call %d: changed %v, %v; want %v, nil", i+1, changed, err, want)
		}
		if got := strings.TrimSpace(ns.exec(t, "cat", ipForwardPath)); got != "1" {
			t.Fatalf("after call %d, ip_forward is %q, want 1", i+1, got)
		}
	}
}
