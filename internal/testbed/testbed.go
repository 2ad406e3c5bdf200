//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// RangeEnv overrides the default address range (a CIDR) on machines where
// 10.213.0.0/16 is in use.
const RangeEnv = "MAESTRO_TESTBED_RANGE"

// Defaults.
const (
	DefaultPrefix    = "mtb"
	DefaultStopGrace = 10 * time.Second
)

// DefaultRange is where site subnets come from: far from the pod range
// (10.244.0.0/16), the service range (10.96.0.0/16) and Docker's
// 172.17.0.0/16.
var DefaultRange = netip.MustParsePrefix("10.213.0.0/16")

// reservedRanges are the cluster's own ranges, which site subnets must
// never overlap.
var reservedRanges = []struct {
	what   string
	prefix netip.Prefix
}{
	{"the pod range", netip.MustParsePrefix("10.244.0.0/16")},
	{"the service range", netip.MustParsePrefix("10.96.0.0/16")},
	{"Docker's default bridge", netip.MustParsePrefix("172.17.0.0/16")},
}

// Options configure a test bed; the zero value is the default.
type Options struct {
	// Prefix starts every name the test bed makes (namespaces, the uplink,
	// node names): a lower-case letter then up to 7 letters or digits
	// (default DefaultPrefix). The run's name is <prefix>-<6 hex>.
	Prefix string
	// Range is the IPv4 range site subnets (one /24 each) are taken from
	// (default $MAESTRO_TESTBED_RANGE, else DefaultRange). Parallel runs
	// share it: each site takes a /24 no other live run holds.
	Range netip.Prefix
	// StopGrace is how long a process has between SIGTERM and SIGKILL
	// (default DefaultStopGrace).
	StopGrace time.Duration
}

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)

func (o *Options) setDefaults() error {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !prefixPattern.MatchString(o.Prefix) {
		return fmt.Errorf("testbed: Options.Prefix %q: want a lower-case letter then up to 7 letters or digits", o.Prefix)
	}
	if !o.Range.IsValid() {
		o.Range = DefaultRange
		if env := os.Getenv(RangeEnv); env != "" {
			p, err := netip.ParsePrefix(env)
			if err != nil {
				return fmt.Errorf("testbed: $%s %q: %w", RangeEnv, env, err)
			}
			o.Range = p
		}
	}
	if !o.Range.Addr().Is4() || o.Range.Bits() > 24 {
		return fmt.Errorf("testbed: Options.Range %s: want an IPv4 range of /24 or larger", o.Range)
	}
	o.Range = o.Range.Masked()
	for _, r := range reservedRanges {
		if o.Range.Overlaps(r.prefix) {
			return fmt.Errorf("testbed: Options.Range %s overlaps %s %s", o.Range, r.what, r.prefix)
		}
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	return nil
}

// Testbed is one test's set of emulated hosts (see the package comment).
// Methods that build the topology (AddSite, AddHost, StartServer,
// StartAgent) fail the test on error and must be called from the test's
// goroutine; the others return errors and may be called from any
// goroutine.
type Testbed struct {
	t      testing.TB
	opts   Options
	run    string
	logDir string // process logs, server and agent data (dataDir)
	docker *dockerSweeper
	spawn  func(func() error) error

	router *Namespace

	mu    sync.Mutex
	sites []*Site
	hosts map[string]*Host
	procs []*Process
	cuts  map[[2]string]bool // partitioned site pairs (ordered names)
}

// New creates an empty test bed (its router namespace only) after removing
// the leftovers of killed runs, and registers its cleanup. It needs root
// and iproute2: without them the test fails under CI=true and is skipped
// loudly otherwise.
func New(t testing.TB, opts Options) *Testbed {
	t.Helper()
	testreq.Root(t, "network namespaces for emulated hosts")
	if ipPath == "" {
		testreq.Missing(t, "iproute2's ip not found: apt-get install iproute2 (scripts/install-deps.sh does)")
	}
	if err := opts.setDefaults(); err != nil {
		t.Fatal(err)
	}
	tb := &Testbed{t: t, opts: opts, docker: &dockerSweeper{},
		hosts: map[string]*Host{}, cuts: map[[2]string]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	unlock, err := lockState()
	if err != nil {
		t.Fatal(err)
	}
	if err := sweep(ctx, opts.Prefix, tb.docker, t.Logf); err != nil {
		t.Logf("testbed: leftovers of killed runs not all removed (continuing): %v", err)
	}
	tb.run, err = newRun(opts.Prefix)
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	sp := newSpawner()
	tb.spawn = sp.run
	t.Cleanup(func() { tb.cleanup(sp) })
	tb.logDir = dataDir(tb.run)
	if err := os.MkdirAll(tb.logDir, 0o755); err != nil {
		t.Fatal(err)
	}

	tb.router = &Namespace{tb: tb, name: tb.run + "-router"}
	if _, err := ip(ctx, "netns", "add", tb.router.name); err != nil {
		testreq.Missing(t, "creating a network namespace: %v", err)
	}
	if err := tb.setupRouter(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("testbed: run %s (logs in %s)", tb.run, tb.logDir)
	return tb
}

// Run is the run's name (<prefix>-<id>): every namespace is named
// <run>-..., the root namespace's uplink interface is <run>.
func (tb *Testbed) Run() string { return tb.run }

// Router is the namespace joining the sites.
func (tb *Testbed) Router() *Namespace { return tb.router }

// Sites are the sites in the order they were added.
func (tb *Testbed) Sites() []*Site {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]*Site(nil), tb.sites...)
}

// Host returns a host by name, nil if there is none.
func (tb *Testbed) Host(name string) *Host {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.hosts[name]
}

func (tb *Testbed) track(p *Process) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.procs = append(tb.procs, p)
}

// cleanup stops the processes (printing their last lines when the test
// failed), then removes everything of the run.
func (tb *Testbed) cleanup(sp *spawner) {
	tb.mu.Lock()
	procs := append([]*Process(nil), tb.procs...)
	tb.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { _ = p.Stop() })
	}
	wg.Wait()
	sp.close()
	if tb.t.Failed() {
		for _, p := range procs {
			tb.t.Logf("testbed: last lines of %q in %s (%s, %v):\n%s", p.Name, p.ns.name, p.LogPath, p.err, p.tail(60))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := removeRun(ctx, tb.run, tb.docker); err != nil {
		tb.t.Errorf("testbed: cleanup: %v", err)
	}
	tb.docker.close()
}
