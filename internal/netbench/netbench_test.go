package netbench

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestMeasureLoopback(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go Serve(l)
	dial := func(ctx context.Context) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
	}
	r, err := Measure(t.Context(), dial, Options{Duration: 200 * time.Millisecond, Pings: 100})
	if err != nil {
		t.Fatal(err)
	}
	if r.BytesPerSecond < 1e6 || r.P50 <= 0 || r.P99 < r.P50 || r.P50 > 100*time.Millisecond {
		t.Fatalf("implausible loopback figures: %v", r)
	}
	tp, lat := r.Ratio(Result{BytesPerSecond: r.BytesPerSecond / 2, P50: r.P50 * 2})
	if tp != 2 || lat != 0.5 {
		t.Fatalf("Ratio: %v %v", tp, lat)
	}
}

// A server that stops reading must not hang the measurement past ctx.
func TestThroughputHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second) // never reads
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Throughput(ctx, func(ctx context.Context) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
	}, time.Hour)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("got %v after %v, want an error soon after the context ends", err, time.Since(start))
	}
}
