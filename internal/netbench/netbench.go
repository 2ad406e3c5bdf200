package netbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// Modes of a connection, its first byte.
const (
	modeSink = 'T' // read until EOF, answer the byte count
	modeEcho = 'L' // echo fixed-size messages until EOF
)

// Defaults.
const (
	DefaultDuration    = 2 * time.Second
	DefaultPings       = 1000
	DefaultMessageSize = 64
	chunk              = 128 << 10
)

// Options adjust Measure; the zero value takes the defaults.
type Options struct {
	// Duration is how long the throughput stream writes.
	Duration time.Duration
	// Pings is how many round trips the latency figure is taken from.
	Pings int
	// MessageSize is the size of a latency message in bytes.
	MessageSize int
}

func (o *Options) setDefaults() {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Pings <= 0 {
		o.Pings = DefaultPings
	}
	if o.MessageSize <= 0 {
		o.MessageSize = DefaultMessageSize
	}
}

// Result is one path's figures.
type Result struct {
	// BytesPerSecond is the throughput of one TCP stream (bytes the
	// server read over the time until it confirmed them).
	BytesPerSecond float64
	// P50 and P99 are round-trip latency percentiles.
	P50, P99 time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%.1f MB/s, p50 %v, p99 %v", r.BytesPerSecond/1e6, r.P50, r.P99)
}

// Ratio is r's throughput and p50 latency relative to base's (1.0: as
// good as base; throughput higher is better, latency lower is better).
func (r Result) Ratio(base Result) (throughput, p50 float64) {
	return r.BytesPerSecond / base.BytesPerSecond, float64(r.P50) / float64(base.P50)
}

// Dial opens a connection to the benchmark server from where the
// measurement starts.
type Dial func(ctx context.Context) (net.Conn, error)

// Serve answers benchmark connections on l until l is closed.
func Serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = serveConn(c)
		}()
	}
}

func serveConn(c net.Conn) error {
	var mode [1]byte
	if _, err := io.ReadFull(c, mode[:]); err != nil {
		return err
	}
	switch mode[0] {
	case modeSink:
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			return err
		}
		return binary.Write(c, binary.BigEndian, n)
	case modeEcho:
		_, err := io.Copy(c, c)
		return err
	}
	return fmt.Errorf("netbench: unknown mode %q", mode[0])
}

// Measure takes throughput, then latency, over the path dial opens.
func Measure(ctx context.Context, dial Dial, opts Options) (Result, error) {
	opts.setDefaults()
	bps, err := Throughput(ctx, dial, opts.Duration)
	if err != nil {
		return Result{}, err
	}
	p50, p99, err := Latency(ctx, dial, opts.Pings, opts.MessageSize)
	if err != nil {
		return Result{}, err
	}
	return Result{BytesPerSecond: bps, P50: p50, P99: p99}, nil
}

// Throughput writes one TCP stream for d and returns the bytes per second
// the server confirmed having read.
func Throughput(ctx context.Context, dial Dial, d time.Duration) (float64, error) {
	c, err := dial(ctx)
	if err != nil {
		return 0, fmt.Errorf("netbench: dialing: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, chunk)
	buf[0] = modeSink
	start := time.Now()
	var sent int64
	for time.Since(start) < d {
		n, err := c.Write(buf)
		sent += int64(n)
		if err != nil {
			return 0, fmt.Errorf("netbench: writing: %w", err)
		}
		buf[0] = 0
	}
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return 0, errors.New("netbench: the connection cannot half-close (not TCP?)")
	}
	if err := cw.CloseWrite(); err != nil {
		return 0, err
	}
	var got int64
	if err := binary.Read(c, binary.BigEndian, &got); err != nil {
		return 0, fmt.Errorf("netbench: reading the server's count: %w", err)
	}
	if got != sent-1 {
		return 0, fmt.Errorf("netbench: the server read %d bytes, %d were sent", got, sent-1)
	}
	return float64(got) / time.Since(start).Seconds(), nil
}

// Latency sends n messages of size bytes one at a time and returns the
// 50th and 99th percentile round trips.
func Latency(ctx context.Context, dial Dial, n, size int) (p50, p99 time.Duration, err error) {
	c, err := dial(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("netbench: dialing: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if _, err := c.Write([]byte{modeEcho}); err != nil {
		return 0, 0, err
	}
	msg, back := make([]byte, size), make([]byte, size)
	rtts := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			return 0, 0, fmt.Errorf("netbench: writing: %w", err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			return 0, 0, fmt.Errorf("netbench: reading the echo: %w", err)
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2], rtts[len(rtts)*99/100], nil
}
