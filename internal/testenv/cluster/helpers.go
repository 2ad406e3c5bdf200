package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Update reads the named object, applies edit and writes it back,
// retrying when a controller wrote in between (conflict).
func Update[T api.Object](t testing.TB, ctx context.Context, r client.Resource[T], name string, edit func(T)) {
	t.Helper()
	for range 20 {
		obj, err := r.Get(ctx, name)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		edit(obj)
		if _, err = r.Update(ctx, obj); err == nil {
			return
		}
		if !api.IsConflict(err) {
			t.Fatalf("updating %s: %v", name, err)
		}
	}
	t.Fatalf("updating %s: conflicts", name)
}

// Every runs f every interval in the background until the returned stop
// is called; stop returns once f has returned for the last time.
func Every(interval time.Duration, f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			f()
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
