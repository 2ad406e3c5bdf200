package apiserver_test

// Watches from revision 0 against a real server (HTTPS, embedded etcd).
// Each benchmark sets up thousands of objects and one iteration is a whole
// run, so run one:
//
//	go test -run '^$' -bench 'WatchFromZero|GetUnderLoad' -benchtime=1x -timeout 60m ./engine/apiserver/
//
// The watchers are raw HTTP/2 clients, one connection each, that only
// split lines, so client-side decoding does not compete with the server
// for the CPU. Memory is the whole test process (server, etcd and the
// watchers' connections), measured before the watches open and while they
// are open.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

const (
	benchObjects  = 6000
	benchWatchers = 200
	benchWriters  = 16
	// bigObjectBytes is about as large as etcd accepts (1.5 MiB requests).
	bigObjectBytes = 1_500_000
)

// BenchmarkWatchFromZero opens 200 watches from revision 0 over 6,000 config
// maps at once and reports the memory they add and the latency of gets
// while their initial objects stream out; "big" adds one 1.5 MB object.
func BenchmarkWatchFromZero(b *testing.B) {
	for _, big := range []bool{false, true} {
		b.Run(map[bool]string{false: "small", true: "big"}[big], func(b *testing.B) {
			env := testenv.Start(b)
			seedConfigMaps(b, env, benchObjects, big)
			want := benchObjects + map[bool]int{false: 0, true: 1}[big]
			getter := newClient(b, env.Config)
			if _, err := getter.ConfigMaps("default").Get(context.Background(), "cm-100"); err != nil {
				b.Fatal(err) // and the getter's connection is open
			}
			var lat []time.Duration
			var held, peakHeap, peakRSS float64
			b.ResetTimer()
			for range b.N {
				r := watchFromZeroOnce(b, env, getter, want)
				lat = append(lat, r.lat...)
				held, peakHeap, peakRSS = max(held, r.held), max(peakHeap, r.peakHeap), max(peakRSS, r.peakRSS)
				b.ReportMetric(r.deliver.Seconds(), "deliver-s")
			}
			b.StopTimer()
			b.ReportMetric(held, "held-MB")
			b.ReportMetric(peakHeap, "peak-heap-MB")
			if peakRSS > 0 {
				b.ReportMetric(peakRSS, "peak-rss-MB")
			}
			reportLatency(b, "get", lat)
		})
	}
}

type fromZeroResult struct {
	lat                     []time.Duration
	held, peakHeap, peakRSS float64 // MB added over the idle server
	deliver                 time.Duration
}

// watchFromZeroOnce opens the watchers, runs gets until every watcher has
// its initial objects, measures, and closes the watchers.
func watchFromZeroOnce(b *testing.B, env *testenv.Env, getter *client.Client, want int) fromZeroResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, baseObjects := heapInUse(), heapObjects()
	debug.FreeOSMemory()
	rssBase := resetPeakRSS()
	peak := startHeapSampler()
	start := time.Now()
	ws := openWatchers(ctx, b, env.Config, benchWatchers)
	lat := getUntil(ctx, b, getter, allBookmarked(ws))
	var res fromZeroResult
	res.deliver = time.Since(start)
	res.lat = lat
	res.peakHeap = mb(peak() - baseObjects)
	res.held = mb(heapInUse() - base)
	if rssBase > 0 {
		res.peakRSS = mb(peakRSS() - rssBase)
	}
	for _, w := range ws {
		if got := w.initial.Load(); got != int64(want) {
			b.Fatalf("a watcher got %d initial objects, want %d", got, want)
		}
	}
	cancel()
	for _, w := range ws {
		<-w.ended
	}
	return res
}

// BenchmarkGetUnderLoad reports get latency while 16 writers update config
// maps and 200 watchers from revision 0 over 6,000 config maps start and
// then receive every change: gets run until every watcher has its initial
// objects, then for 10 s more. The writers either keep a steady rate (10
// writes/s each: 160 writes/s, 32,000 watch events/s) or write as fast as
// they can (max: the server is saturated and every request queues behind
// the others). One iteration is one such run.
func BenchmarkGetUnderLoad(b *testing.B) {
	for _, perWriter := range []int{10, 0} {
		name := "rate=max"
		if perWriter > 0 {
			name = fmt.Sprintf("rate=%d/s", perWriter*benchWriters)
		}
		b.Run(name, func(b *testing.B) {
			env := testenv.Start(b)
			seedConfigMaps(b, env, benchObjects, false)
			getter := newClient(b, env.Config)
			if _, err := getter.ConfigMaps("default").Get(context.Background(), "cm-100"); err != nil {
				b.Fatal(err) // and the getter's connection is open
			}
			var lat, writeLat []time.Duration
			var writes, events, seconds float64
			cutOff := 0
			b.ResetTimer()
			for range b.N {
				r := getUnderLoadOnce(b, env, getter, perWriter)
				lat, writeLat = append(lat, r.lat...), append(writeLat, r.writeLat...)
				writes, events, seconds = writes+float64(len(r.writeLat)), events+float64(r.events), seconds+r.elapsed.Seconds()
				cutOff += r.cutOff
			}
			b.StopTimer()
			reportLatency(b, "get", lat)
			reportLatency(b, "write", writeLat)
			b.ReportMetric(writes/seconds, "writes/s")
			b.ReportMetric(events/seconds, "events/s")
			b.ReportMetric(float64(cutOff), "watchers-cut-off")
		})
	}
}

type underLoadResult struct {
	lat, writeLat []time.Duration
	events        int64 // changes the watchers received
	cutOff        int   // watchers whose stream ended early
	elapsed       time.Duration
}

// steadyFor is how long gets go on after every watcher has its initial
// objects.
const steadyFor = 10 * time.Second

func getUnderLoadOnce(b *testing.B, env *testenv.Env, getter *client.Client, perWriter int) underLoadResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stop atomic.Bool
	var wg sync.WaitGroup
	writeLat := make([][]time.Duration, benchWriters)
	for i := range benchWriters {
		c := newClient(b, env.Config)
		wg.Go(func() { writeLat[i] = runWriter(ctx, b, c, i, perWriter, &stop) })
	}
	start := time.Now()
	ws := openWatchers(ctx, b, env.Config, benchWatchers)
	lat := getUntil(ctx, b, getter, allBookmarked(ws))
	steady, done := context.WithTimeout(ctx, steadyFor)
	defer done()
	lat = append(lat, getUntil(ctx, b, getter, steady.Done())...)
	res := underLoadResult{lat: lat, elapsed: time.Since(start)}
	stop.Store(true)
	wg.Wait()
	res.writeLat = slices.Concat(writeLat...)
	for _, w := range ws {
		res.events += w.changes.Load()
		if w.cutOff.Load() {
			res.cutOff++
		}
	}
	cancel()
	for _, w := range ws {
		<-w.ended
	}
	return res
}

// runWriter updates config map cm-<i> perSecond times a second, or as fast
// as it can when perSecond is 0, until stop, and returns each write's
// latency.
func runWriter(ctx context.Context, b *testing.B, c *client.Client, i, perSecond int, stop *atomic.Bool) (lat []time.Duration) {
	var tick <-chan time.Time
	if perSecond > 0 {
		t := time.NewTicker(time.Second / time.Duration(perSecond))
		defer t.Stop()
		tick = t.C
	}
	cm := benchConfigMap(int64(i))
	for n := 0; !stop.Load(); n++ {
		if tick != nil {
			<-tick
		}
		cm.Data["key"] = strconv.Itoa(n)
		cm.ResourceVersion = 0
		t := time.Now()
		if _, err := c.ConfigMaps("default").Update(ctx, cm); err != nil {
			b.Error(err)
			return lat
		}
		lat = append(lat, time.Since(t))
	}
	return lat
}

// seedConfigMaps creates n config maps of about 300 bytes with 16
// concurrent clients, and with big one of bigObjectBytes, written straight
// to the store so API size limits do not decide the benchmark.
func seedConfigMaps(b *testing.B, env *testenv.Env, n int, big bool) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				cm := benchConfigMap(i)
				cm.Labels = map[string]string{"app": fmt.Sprintf("app-%d", i%50), "tier": "backend"}
				cm.Data["config.yaml"] = strings.Repeat("setting: value\n", 12)
				if _, err := env.Client.ConfigMaps("default").Create(ctx, cm); err != nil {
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
	if !big {
		return
	}
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "big", UID: "big-uid",
		CreationTimestamp: time.Now().UTC().Truncate(time.Second)},
		Data: map[string]string{"blob": strings.Repeat("x", bigObjectBytes)}}
	api.SetTypeMeta(cm)
	val, err := json.Marshal(cm)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := env.CP.Store().Create(ctx, registry.Key(api.MustKind("ConfigMap"), "default", "big"), val); err != nil {
		b.Fatal(err)
	}
}

// rawWatch is one watch from revision 0 read line by line.
type rawWatch struct {
	initial    atomic.Int64 // ADDED lines before the bookmark
	changes    atomic.Int64 // lines after it
	bookmarked chan struct{}
	ended      chan struct{}
	cutOff     atomic.Bool // the stream ended before the benchmark did
}

// openWatchers starts n watches of default's config maps from revision 0,
// each on a connection of its own, as n separate clients would.
func openWatchers(ctx context.Context, b *testing.B, cfg client.Config, n int) []*rawWatch {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(cfg.CertificateAuthorityData)) {
		b.Fatal("no CA in the client config")
	}
	url := cfg.Server + "/v1/namespaces/default/configmaps?watch=1&resourceVersion=0"
	ws := make([]*rawWatch, n)
	for i := range ws {
		w := &rawWatch{bookmarked: make(chan struct{}), ended: make(chan struct{})}
		ws[i] = w
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		go func() {
			defer close(w.ended)
			defer hc.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+cfg.Token)
			resp, err := hc.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					b.Errorf("opening watch: %v", err)
				}
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("opening watch: %s", resp.Status)
				return
			}
			w.read(bufio.NewReaderSize(resp.Body, 64<<10))
			w.cutOff.Store(ctx.Err() == nil)
		}()
	}
	return ws
}

// read counts lines without decoding them; a line longer than the buffer
// arrives in several chunks.
func (w *rawWatch) read(br *bufio.Reader) {
	lineStart, initial := true, true
	for {
		chunk, err := br.ReadSlice('\n')
		if lineStart && len(chunk) > 0 {
			switch {
			case bytes.HasPrefix(chunk, []byte(`{"type":"BOOKMARK"`)):
				initial = false
				close(w.bookmarked)
			case initial && bytes.HasPrefix(chunk, []byte(`{"type":"ADDED"`)):
				w.initial.Add(1)
			case !initial:
				w.changes.Add(1)
			}
		}
		lineStart = len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// allBookmarked is closed once every watcher has its initial objects.
func allBookmarked(ws []*rawWatch) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, w := range ws {
			select {
			case <-w.bookmarked:
			case <-w.ended:
			}
		}
	}()
	return done
}

// getUntil gets one object over and over until done, and returns each
// get's latency.
func getUntil(ctx context.Context, b *testing.B, c *client.Client, done <-chan struct{}) []time.Duration {
	var lat []time.Duration
	for {
		select {
		case <-done:
			return lat
		default:
		}
		t := time.Now()
		if _, err := c.ConfigMaps("default").Get(ctx, "cm-100"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
}

func newClient(b *testing.B, cfg client.Config) *client.Client {
	c, err := client.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func reportLatency(b *testing.B, name string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), name+"-p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), name+"-p99-ms")
	b.ReportMetric(float64(len(lat)), name+"s")
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// heapObjects is the size of the heap's objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// startHeapSampler reads the heap size every 10 ms (no stop-the-world)
// and returns a function that stops it and returns the largest value.
func startHeapSampler() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, heapObjects())
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// resetPeakRSS resets the process's peak resident size (Linux) and
// returns the current one, or 0 where that is not possible.
func resetPeakRSS() uint64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0
	}
	return procStatus("VmRSS:")
}

func peakRSS() uint64 { return procStatus("VmHWM:") }

// procStatus reads a size in kB from /proc/self/status, in bytes.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(b uint64) float64 {
	if int64(b) < 0 { // less than the baseline
		return 0
	}
	return float64(b) / (1 << 20)
}
