package apiserver_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func benchConfigMap(i int64) *api.ConfigMap {
	return &api.ConfigMap{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("cm-%d", i)},
		Data: map[string]string{"key": "value"}}
}

// BenchmarkAPICreate creates config maps through HTTPS with 16 concurrent
// clients against embedded etcd (fsync on).
func BenchmarkAPICreate(b *testing.B) {
	env := testenv.Start(b)
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(8) // 2 cores x 8 = 16 clients
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.Client.ConfigMaps("default").Create(ctx, benchConfigMap(seq.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "objects/s")
}

// BenchmarkAPIGet reports the latency of a get of one object.
func BenchmarkAPIGet(b *testing.B) {
	env := testenv.Start(b)
	ctx := context.Background()
	if _, err := env.Client.ConfigMaps("default").Create(ctx, benchConfigMap(0)); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		if _, err := env.Client.ConfigMaps("default").Get(ctx, "cm-0"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
}

// BenchmarkWatchFanout has 100 watchers each receive 10,000 events.
func BenchmarkWatchFanout(b *testing.B) {
	const watchers, events = 100, 10_000
	env := testenv.Start(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := env.Client.ConfigMaps("default").Create(ctx, benchConfigMap(0)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var wg sync.WaitGroup
		var ready sync.WaitGroup
		ready.Add(watchers)
		rev := currentRevision(b, env.Client)
		for range watchers {
			w, err := env.Client.ConfigMaps("default").Watch(ctx, client.ListOptions{ResourceVersion: rev})
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() {
				defer w.Stop()
				ready.Done()
				n := 0
				for ev := range w.Events() {
					if ev.Type == api.WatchModified {
						if n++; n == events {
							return
						}
					}
				}
			})
		}
		ready.Wait()
		b.StartTimer()
		start := time.Now()
		cm := benchConfigMap(0)
		for i := range events {
			cm.Data["key"] = fmt.Sprint(i)
			cm.ResourceVersion = 0
			if _, err := env.Client.ConfigMaps("default").Update(ctx, cm); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
		b.ReportMetric(float64(watchers*events)/time.Since(start).Seconds(), "events/s")
	}
}

func currentRevision(b *testing.B, c *client.Client) int64 {
	_, rev, err := c.ConfigMaps("default").List(context.Background(), client.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return rev
}
