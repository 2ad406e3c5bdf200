package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/storetest"
)

func TestTimeoutConformance(t *testing.T) {
	m := startEmbedded(t)
	storetest.Run(t, storeFactory(m.Client(), "/bounded", func(t *testing.T, inner store.Store) store.Store {
		return store.WithTimeout(inner, 10*time.Second)
	}))
}

// TestTimeoutFailsFast: against a store that never answers, every call
// fails with ErrUnavailable after the timeout; a caller that gives up
// first gets its own error, not ErrUnavailable.
func TestTimeoutFailsFast(t *testing.T) {
	const d = 50 * time.Millisecond
	s := store.WithTimeout(hung{}, d)
	calls := map[string]func(ctx context.Context) error{
		"Get":             func(ctx context.Context) error { _, err := s.Get(ctx, "/k"); return err },
		"List":            func(ctx context.Context) error { _, _, err := s.List(ctx, "/"); return err },
		"CurrentRevision": func(ctx context.Context) error { _, err := s.CurrentRevision(ctx); return err },
		"Create":          func(ctx context.Context) error { _, err := s.Create(ctx, "/k", nil); return err },
		"Update":          func(ctx context.Context) error { _, err := s.Update(ctx, "/k", nil, 1); return err },
		"Delete":          func(ctx context.Context) error { _, err := s.Delete(ctx, "/k", 0); return err },
		"Compact":         func(ctx context.Context) error { return s.Compact(ctx, 1) },
		"Watch":           func(ctx context.Context) error { _, err := s.Watch(ctx, "/", 0); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call(context.Background())
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("hung store: %v, want ErrUnavailable", err)
			}
			if took := time.Since(start); took > 20*d {
				t.Errorf("answered after %s, want about %s", took, d)
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(d/5, cancel)
			if err := call(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
				t.Errorf("caller cancelled: %v, want context.Canceled and not ErrUnavailable", err)
			}
		})
	}
}

// TestTimeoutBoundsOnlyTheWatchStart: a watch that started in time
// streams for as long as its caller wants.
func TestTimeoutBoundsOnlyTheWatchStart(t *testing.T) {
	m := startEmbedded(t)
	s := store.WithTimeout(store.NewEtcd(m.Client(), "/watchstart"), 200*time.Millisecond)
	ctx := context.Background()
	w, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	time.Sleep(500 * time.Millisecond)
	if _, err := s.Create(ctx, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	select {
	case ev, ok := <-w.Events():
		if !ok || ev.KV.Key != "/a" {
			t.Fatalf("event %+v (open %v, err %v), want the create of /a", ev, ok, w.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event from a watch older than the timeout")
	}
}

// hung is a store whose calls block until their context ends.
type hung struct{ store.Store }

func (hung) Get(ctx context.Context, _ string) (store.KV, error) {
	<-ctx.Done()
	return store.KV{}, ctx.Err()
}
func (hung) List(ctx context.Context, _ string) ([]store.KV, int64, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}
func (hung) CurrentRevision(ctx context.Context) (int64, error) { <-ctx.Done(); return 0, ctx.Err() }
func (hung) Create(ctx context.Context, _ string, _ []byte, _ ...store.Precondition) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}
func (hung) Update(ctx context.Context, _ string, _ []byte, _ int64, _ ...store.Precondition) (int64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}
func (hung) Delete(ctx context.Context, _ string, _ int64, _ ...store.Precondition) (store.KV, error) {
	<-ctx.Done()
	return store.KV{}, ctx.Err()
}
func (hung) Compact(ctx context.Context, _ int64) error { <-ctx.Done(); return ctx.Err() }
func (hung) Watch(ctx context.Context, _ string, _ int64) (store.Watcher, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
