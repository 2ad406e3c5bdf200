package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
)

// Config tunes the controllers. Zero values take the defaults below.
type Config struct {
	// Workers per controller.
	Workers int
	// NodeMonitorPeriod is how often node heartbeats are checked.
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat
	// before it is marked NotReady (its pods are then marked not ready).
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout is how long pods stay on a NotReady node before
	// they are evicted, unless their own tolerations say otherwise.
	PodEvictionTimeout time.Duration
	// UnhealthyThreshold is the fraction of NotReady nodes above which the
	// cluster is considered partially disrupted (likely a network or
	// control-plane problem, not dead machines): evictions then slow down
	// to one node per SecondaryEvictionInterval instead of emptying the cluster.
	UnhealthyThreshold        float64
	SecondaryEvictionInterval time.Duration
}

// Defaults.
const (
	DefaultWorkers                   = 4
	DefaultNodeMonitorPeriod         = time.Second
	DefaultNodeMonitorGracePeriod    = 10 * time.Second
	DefaultPodEvictionTimeout        = 20 * time.Second
	DefaultUnhealthyThreshold        = 0.5
	DefaultSecondaryEvictionInterval = 30 * time.Second
)

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.NodeMonitorPeriod <= 0 {
		c.NodeMonitorPeriod = DefaultNodeMonitorPeriod
	}
	if c.NodeMonitorGracePeriod <= 0 {
		c.NodeMonitorGracePeriod = DefaultNodeMonitorGracePeriod
	}
	if c.PodEvictionTimeout <= 0 {
		c.PodEvictionTimeout = DefaultPodEvictionTimeout
	}
	if c.UnhealthyThreshold <= 0 {
		c.UnhealthyThreshold = DefaultUnhealthyThreshold
	}
	if c.SecondaryEvictionInterval <= 0 {
		c.SecondaryEvictionInterval = DefaultSecondaryEvictionInterval
	}
	return c
}

// Deps is what every controller is built from. Controllers register their
// informer handlers in their constructor (before the informers start) and
// start their workers in Run.
type Deps struct {
	Client    *client.Client
	Informers *Informers
	Recorder  *record.Recorder
	Log       *slog.Logger
	Config    Config
	// Now is time.Now, replaceable in tests.
	Now func() time.Time
}

// WithDefaults fills what is unset: the defaults of Config, slog's default
// logger, time.Now, a new informer factory and event recorder. Controllers
// in packages of their own build from it.
func (d Deps) WithDefaults() Deps { return d.withDefaults() }

func (d Deps) withDefaults() Deps {
	d.Config = d.Config.WithDefaults()
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Informers == nil {
		d.Informers = NewInformers(d.Client, d.Log)
	}
	if d.Recorder == nil {
		d.Recorder = record.New(d.Client, "controller-manager", d.Log)
	}
	return d
}

// Runnable is a controller.
type Runnable interface {
	Run(ctx context.Context)
}

// RunAll starts the recorder and informers, waits for the caches, then
// runs every controller until ctx ends. Build the controllers from the same
// Deps first, so their handlers are registered before the informers start.
func RunAll(ctx context.Context, d Deps, controllers []Runnable) {
	d = d.withDefaults()
	go d.Recorder.Run(ctx)
	d.Informers.Start(ctx)
	if !d.Informers.WaitForSync(ctx) {
		return
	}
	var wg sync.WaitGroup
	for _, c := range controllers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Run(ctx)
		}()
	}
	wg.Wait()
}
