package local

import (
	"fmt"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// BenchmarkCreateDelete measures the local cloud's own cost per machine
// (directory, token file, record, process start; SIGTERM, wait, removal)
// with a stand-in process, not the agent's join.
func BenchmarkCreateDelete(b *testing.B) {
	c, err := New(Options{Root: b.TempDir(), Command: func(Spec) []string { return []string{"sleep", "120"} }, StopGrace: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		m, err := c.Create(b.Context(), cloudtest.Request(fmt.Sprintf("m%d", i), "c1", "p1"))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Delete(b.Context(), m.ID); err != nil {
			b.Fatal(err)
		}
	}
}
