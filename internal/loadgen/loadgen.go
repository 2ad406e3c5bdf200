// Package loadgen is the project's HTTP load generator for tests and
// benchmarks: a fixed request rate (open loop, for "steady load during a
// rollout") or as fast as N connections allow (closed loop, for
// throughput), recording every request's start, latency, status and the
// answer's first line (the demo app names the pod that served it).
package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config describes one run.
type Config struct {
	URL string
	// Rate is requests per second (open loop); 0 means closed loop.
	Rate float64
	// Workers is the number of concurrent requests (default 8).
	Workers int
	// Duration bounds the run; the context may end it sooner.
	Duration time.Duration
	// FreshConnections opens a connection per request (no keep-alive).
	FreshConnections bool
	Timeout          time.Duration // per request, default 5s
}

// Sample is one request.
type Sample struct {
	Start   time.Time
	Latency time.Duration
	Status  int    // 0 when the request failed
	Err     string // transport error
	Body    string // first line of the answer
}

// Result is a run's samples and summary.
type Result struct {
	Samples []Sample
	Elapsed time.Duration
}

// Run sends requests until the duration passes or ctx ends.
func Run(ctx context.Context, cfg Config) Result {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	// Idle connections go after 2 s, as browsers and proxies drop theirs
	// within seconds: a keep-alive connection stays pinned to the backend
	// the service proxy chose when it opened, and one left idle in the pool
	// since before that backend's host was lost would otherwise be taken up
	// again long after the endpoints moved, and hang (a request 10 s after a
	// link cut in TestHostLossAcrossSites).
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.Workers, DisableKeepAlives: cfg.FreshConnections, IdleConnTimeout: 2 * time.Second}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: cfg.Timeout}

	tickets := make(chan time.Time, cfg.Workers)
	go issue(ctx, cfg.Rate, tickets)
	var mu sync.Mutex
	var samples []Sample
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Workers {
		wg.Go(func() {
			var local []Sample
			for range tickets {
				local = append(local, do(hc, cfg.URL))
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(samples, func(a, b Sample) int { return a.Start.Compare(b.Start) })
	return Result{Samples: samples, Elapsed: time.Since(start)}
}

// issue hands out tickets at the rate (or as fast as taken) until ctx ends.
func issue(ctx context.Context, rate float64, tickets chan<- time.Time) {
	defer close(tickets)
	if rate <= 0 {
		for {
			select {
			case tickets <- time.Now():
			case <-ctx.Done():
				return
			}
		}
	}
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		select {
		case tickets <- next:
		case <-ctx.Done():
			return
		}
		next = next.Add(interval)
	}
}

func do(hc *http.Client, url string) Sample {
	s := Sample{Start: time.Now()}
	resp, err := hc.Get(url)
	if err != nil {
		s.Latency, s.Err = time.Since(s.Start), err.Error()
		return s
	}
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.Latency, s.Status, s.Body = time.Since(s.Start), resp.StatusCode, strings.TrimSpace(line)
	return s
}

// Failures are the samples without a 2xx answer.
func (r Result) Failures() []Sample {
	var out []Sample
	for _, s := range r.Samples {
		if s.Status < 200 || s.Status > 299 {
			out = append(out, s)
		}
	}
	return out
}

// Rate is successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Samples)-len(r.Failures())) / r.Elapsed.Seconds()
}

// Percentile is the latency below which q (0..1) of the requests finished.
func (r Result) Percentile(q float64) time.Duration {
	if len(r.Samples) == 0 {
		return 0
	}
	lat := make([]time.Duration, len(r.Samples))
	for i, s := range r.Samples {
		lat[i] = s.Latency
	}
	slices.Sort(lat)
	i := int(q * float64(len(lat)-1))
	return lat[i]
}

// Summary is a one-line report.
func (r Result) Summary() string {
	return fmt.Sprintf("%d requests, %d failed, %.0f req/s, p50 %s, p99 %s", len(r.Samples), len(r.Failures()), r.Rate(),
		r.Percentile(0.5).Round(time.Microsecond), r.Percentile(0.99).Round(time.Microsecond))
}
