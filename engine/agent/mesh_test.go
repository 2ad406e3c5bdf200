package agent

import (
	"log/slog"
	"testing"

	"github.com/maestro-dev/maestro/engine/client"
)

// TestNoMeshOnLoopback: an agent whose node address is a loopback address
// (`maestro up`: every node on this host) runs no mesh, which would
// otherwise own the host's maestro routes and WireGuard port; an agent
// with a routable address does.
func TestNoMeshOnLoopback(t *testing.T) {
	cl, err := client.New(client.Config{Server: "https://127.0.0.1:1", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, wantMesh := range map[string]bool{"127.0.1.3": false, "127.0.0.1": false, "192.0.2.10": true} {
		a := &Agent{cfg: Config{NodeName: "n1", Address: addr, DataDir: t.TempDir(), Client: cl}, log: slog.Default()}
		if err := a.newMesh(); err != nil {
			t.Fatalf("address %s: %v", addr, err)
		}
		if (a.mesh != nil) != wantMesh {
			t.Errorf("address %s: mesh running %v, want %v", addr, a.mesh != nil, wantMesh)
		}
	}
}
