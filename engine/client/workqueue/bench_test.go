package workqueue_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

// BenchmarkQueueAddGetDone measures one key's full trip through the queue
// with no contention: the fixed cost every reconcile pays.
func BenchmarkQueueAddGetDone(b *testing.B) {
	q := workqueue.New[int]()
	defer q.ShutDown()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		q.Add(n) // distinct keys, so nothing merges
		k, _ := q.Get()
		q.Done(k)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkQueueParallelWorkers has GOMAXPROCS producers adding distinct
// keys while the given number of workers Get and Done them: throughput under
// lock contention, as a busy controller sees it.
func BenchmarkQueueParallelWorkers(b *testing.B) {
	for _, workers := range []int{1, 2, 8, 32} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			q := workqueue.New[int64]()
			var handled atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						k, shutdown := q.Get()
						if shutdown {
							return
						}
						handled.Add(1)
						q.Done(k)
					}
				})
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					q.Add(next.Add(1))
				}
			})
			// The timer keeps running until the workers have handed out
			// everything, so the rate is end to end.
			q.ShutDown()
			wg.Wait()
			b.StopTimer()
			if got := handled.Load(); got != next.Load() {
				b.Fatalf("handled %d keys, added %d", got, next.Load())
			}
			b.ReportMetric(float64(handled.Load())/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
