package flowcontrol

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Controller holds the seats of every priority level and counts the
// long-running requests of every identity. It is safe for concurrent use.
type Controller struct {
	levels      map[Level]*level
	maxLong     int
	longMetrics *prometheus.GaugeVec
	rejected    *prometheus.CounterVec

	mu   sync.Mutex
	long map[string]int // open long-running requests per identity
}

// New builds a controller and registers its metrics with reg (nil: none).
// Levels missing from cfg get their defaults.
func New(cfg Config, reg prometheus.Registerer) *Controller {
	m := newMetrics(reg)
	c := &Controller{levels: map[Level]*level{}, maxLong: cfg.MaxLongRunningPerIdentity,
		longMetrics: m.longRunning, rejected: m.rejected, long: map[string]int{}}
	defaults := DefaultConfig()
	for _, name := range Levels {
		lc, ok := cfg.Levels[name]
		if !ok {
			lc = defaults.Levels[name]
		}
		if lc.Seats <= 0 {
			lc.Seats = defaults.Levels[name].Seats
		}
		if lc.QueueWait <= 0 {
			lc.QueueWait = DefaultQueueWait
		}
		c.levels[name] = newLevel(name, lc, m.level(name))
	}
	return c
}

// Acquire takes a seat of the level for identity, waiting in its queue
// when none is free; release gives it back (once, however often called).
// A request turned away gets a *Rejection; one whose ctx ends while it
// waits gets ctx's error.
func (c *Controller) Acquire(ctx context.Context, lvl Level, identity string) (release func(), err error) {
	l, ok := c.levels[lvl]
	if !ok {
		return nil, fmt.Errorf("flowcontrol: unknown priority level %q", lvl)
	}
	return l.acquire(ctx, identity)
}

// AcquireLongRunning counts a watch or followed log of identity against
// its limit, and refuses it beyond; release ends the count.
func (c *Controller) AcquireLongRunning(lvl Level, identity string) (release func(), err error) {
	c.mu.Lock()
	if lvl != System && c.maxLong > 0 && c.long[identity] >= c.maxLong {
		c.mu.Unlock()
		c.rejected.WithLabelValues(string(lvl), ReasonTooMany).Inc()
		return nil, reject(lvl, ReasonTooMany, 5*time.Second,
			"too many open watches: this identity holds %d watches or followed logs, the limit; close some "+
				"(share one informer per kind) or retry later", c.maxLong)
	}
	c.long[identity]++
	c.mu.Unlock()
	c.longMetrics.WithLabelValues(string(lvl)).Inc()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			if c.long[identity]--; c.long[identity] == 0 {
				delete(c.long, identity)
			}
			c.mu.Unlock()
			c.longMetrics.WithLabelValues(string(lvl)).Dec()
		})
	}, nil
}
