//go:build linux

package process_test

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/process"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// After a host reboot a sandbox's record says Ready but its network
// namespace (a bind mount) is gone, leaving a plain file: the sandbox is
// NotReady, so the agent replaces it instead of running a pod without
// network, and removing it still works.
func TestSandboxWithoutNamespaceIsNotReady(t *testing.T) {
	testreq.Root(t, "network namespaces of pods")
	ctx := context.Background()
	r, err := process.New(process.Options{Root: t.TempDir(), NodeIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := r.RunSandbox(ctx, runtime.SandboxConfig{PodUID: "u1", Namespace: "default", Name: "p", Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if sb.NetNS == "" || sb.State != runtime.SandboxReady {
		t.Fatalf("sandbox = %+v, want Ready with a namespace", sb)
	}
	state := func() runtime.SandboxState {
		t.Helper()
		sbs, err := r.ListSandboxes(ctx, runtime.Filter{PodUID: "u1"})
		if err != nil || len(sbs) != 1 {
			t.Fatalf("ListSandboxes = %v, %v; want the one sandbox", sbs, err)
		}
		return sbs[0].State
	}
	if got := state(); got != runtime.SandboxReady {
		t.Fatalf("state with its namespace = %v, want Ready", got)
	}
	if err := unix.Unmount(sb.NetNS, unix.MNT_DETACH); err != nil { // what a reboot leaves
		t.Fatal(err)
	}
	if got := state(); got != runtime.SandboxNotReady {
		t.Errorf("state without its namespace = %v, want NotReady", got)
	}
	if err := r.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Errorf("RemoveSandbox: %v", err)
	}
}
