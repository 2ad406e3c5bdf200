package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
)

// SharedEtcd is one embedded etcd member for every test of a package (a
// member takes a second to start); each test gets a store under a prefix
// of its own. Declare one per package and Close it from TestMain.
type SharedEtcd struct {
	once   sync.Once
	member *store.Embedded
	dir    string
	err    error
	seq    atomic.Int64
}

var quietLog = slog.New(slog.DiscardHandler)

// Store starts the member on first use and returns a store no other test
// of the package shares keys with.
func (e *SharedEtcd) Store(t testing.TB) store.Store {
	t.Helper()
	e.once.Do(func() {
		if e.dir, e.err = os.MkdirTemp("", "maestro-test-etcd-"); e.err != nil {
			return
		}
		e.member, e.err = store.StartEmbedded(context.Background(), store.EmbeddedConfig{Dir: e.dir, UnsafeNoFsync: true, Logger: quietLog})
	})
	if e.err != nil {
		t.Fatalf("starting embedded etcd: %v", e.err)
	}
	s := store.NewEtcd(e.member.Client(), fmt.Sprintf("/t%d", e.seq.Add(1))).WithLogger(quietLog)
	t.Cleanup(func() { s.Close() })
	return s
}

// Close stops the member and removes its data.
func (e *SharedEtcd) Close() {
	if e.member != nil {
		e.member.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}
