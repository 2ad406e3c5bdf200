package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunOpenAndClosedLoop(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			http.Error(w, "every tenth fails", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "pod=a")
		fmt.Fprintln(w, "second line")
	}))
	defer srv.Close()

	open := Run(context.Background(), Config{URL: srv.URL, Rate: 200, Duration: time.Second})
	if got := len(open.Samples); got < 150 || got > 210 {
		t.Fatalf("200 req/s for 1s sent %d requests", got)
	}
	if f := len(open.Failures()); f != len(open.Samples)/10 {
		t.Fatalf("%d failures of %d, want every tenth", f, len(open.Samples))
	}
	if s := open.Samples[0]; s.Body != "pod=a" && s.Status == 200 {
		t.Fatalf("first line %q", s.Body)
	}
	closed := Run(context.Background(), Config{URL: srv.URL, Workers: 4, Duration: 300 * time.Millisecond})
	if closed.Rate() <= open.Rate() {
		t.Fatalf("closed loop %.0f req/s is not faster than 200 req/s open loop", closed.Rate())
	}
	if closed.Percentile(0.99) < closed.Percentile(0.5) {
		t.Fatal("p99 below p50")
	}
}
