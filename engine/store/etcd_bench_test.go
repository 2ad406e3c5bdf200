package store_test

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
)

// The benchmarks run against an embedded member with fsync off, so they
// measure the store and etcd's request path rather than the disk. Each
// reports ops/s besides ns/op.

// benchValue is the size of a typical small API object.
var benchValue = bytes.Repeat([]byte("x"), 512)

func benchStore(b *testing.B) *store.Etcd {
	b.Helper()
	m := startEmbedded(b)
	s := store.NewEtcd(m.Client(), "/bench")
	b.Cleanup(func() { s.Close() })
	return s
}

func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkCreate(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, err := s.Create(ctx, fmt.Sprintf("/pods/%09d", i), benchValue); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportOps(b)
}

// BenchmarkCreateParallel creates from several goroutines at once, which
// lets etcd batch its writes.
func BenchmarkCreateParallel(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Create(ctx, fmt.Sprintf("/pods/%09d", n.Add(1)), benchValue); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportOps(b)
}

func BenchmarkUpdateCAS(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	rev, err := s.Create(ctx, "/pods/cas", benchValue)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if rev, err = s.Update(ctx, "/pods/cas", benchValue, rev); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b)
}

func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	if _, err := s.Create(ctx, "/pods/get", benchValue); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(ctx, "/pods/get"); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b)
}

// BenchmarkList1000 lists 1000 keys of 512 bytes (one page).
func BenchmarkList1000(b *testing.B) {
	const n = 1000
	s := benchStore(b)
	ctx := b.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := s.Create(ctx, fmt.Sprintf("/list/%04d", i), benchValue); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	for b.Loop() {
		kvs, _, err := s.List(ctx, "/list/")
		if err != nil {
			b.Fatal(err)
		}
		if len(kvs) != n {
			b.Fatalf("listed %d keys, want %d", len(kvs), n)
		}
	}
	reportOps(b)
}
