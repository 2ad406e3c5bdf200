//go:build linux

package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// StateDir holds one directory per live test bed (/run/maestro-testbed/<run>),
// with the owner file that tells a live run from a killed one and the site
// subnets the run holds.
const StateDir = "/run/maestro-testbed"

// dataDir holds a run's process logs and the data directories of the
// servers and agents it starts; it goes with the run.
func dataDir(run string) string { return filepath.Join(os.TempDir(), "maestro-testbed", run) }

// ownerFile names the owner of a run: "<pid> <start time in clock ticks>",
// so a pid reused by another process is not taken for the owner.
const ownerFile = "owner"

// subnetFilePrefix marks the files recording the site subnets a run
// holds ("subnet-<site>", holding the CIDR), so parallel runs never
// route the same range from the root namespace.
const subnetFilePrefix = "subnet-"

// runIDLen is the length of the random run id (hex).
const runIDLen = 6

// lockState takes the machine-wide lock of the state directory (flock, so
// a killed holder releases it) and returns its release.
func lockState() (func(), error) {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("testbed: creating %s: %w", StateDir, err)
	}
	f, err := os.OpenFile(filepath.Join(StateDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testbed: opening the state lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("testbed: locking the state directory: %w", err)
	}
	return func() { f.Close() }, nil // closing releases the flock
}

// newRun creates the state directory of a new run of prefix, owned by
// this process, and returns the run's name (<prefix>-<6 hex>). Called with
// the state lock held.
func newRun(prefix string) (string, error) {
	self, err := processStart(os.Getpid())
	if err != nil {
		return "", err
	}
	for range 10 {
		var b [runIDLen / 2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		name := prefix + "-" + hex.EncodeToString(b[:])
		dir := filepath.Join(StateDir, name)
		if err := os.Mkdir(dir, 0o755); errors.Is(err, fs.ErrExist) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("testbed: creating %s: %w", dir, err)
		}
		owner := fmt.Sprintf("%d %d\n", os.Getpid(), self)
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
			return "", fmt.Errorf("testbed: writing the owner of %s: %w", name, err)
		}
		return name, nil
	}
	return "", errors.New("testbed: no free run id after 10 tries")
}

// processStart is the start time of a process in clock ticks since boot
// (field 22 of /proc/<pid>/stat).
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // fields after the name start at field 3
	if len(fields) <= startField {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.ParseUint(fields[startField], 10, 64)
}

// ownerAlive reports whether the process that created run dir still runs.
// A missing or unreadable owner file counts as dead: the file is written
// under the state lock together with the directory.
func ownerAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return false
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil || pid <= 0 {
		return false
	}
	got, err := processStart(pid)
	return err == nil && got == start
}

// runPattern matches the name of a run of prefix and, in group 1, the
// rest of a name derived from it ("-<host>" of a namespace).
func runPattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile("^(" + regexp.QuoteMeta(prefix) + "-[0-9a-f]{" + strconv.Itoa(runIDLen) + "})(-.*)?$")
}

// sweep removes what killed runs left behind: every run in StateDir whose
// owner is dead, and namespaces and root links named after a run of prefix
// that has no state directory at all. Runs whose owner lives (other tests,
// other checkouts) are never touched. Called with the state lock held.
func sweep(ctx context.Context, prefix string, d *dockerSweeper, logf func(string, ...any)) error {
	entries, err := os.ReadDir(StateDir)
	if err != nil {
		return fmt.Errorf("testbed: reading %s: %w", StateDir, err)
	}
	dead := map[string]bool{}
	live := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if ownerAlive(filepath.Join(StateDir, e.Name())) {
			live[e.Name()] = true
		} else {
			dead[e.Name()] = true
		}
	}
	// Orphans: objects of a run whose directory is gone (it is created
	// before them and removed after them, so no live run has any).
	pat := runPattern(prefix)
	nss, err := namespaces(ctx)
	if err != nil {
		return err
	}
	rootLinks, err := links(ctx, "")
	if err != nil {
		return err
	}
	names := nss
	for _, l := range rootLinks {
		names = append(names, l.Name)
	}
	for _, n := range names {
		if m := pat.FindStringSubmatch(n); m != nil && !live[m[1]] {
			dead[m[1]] = true
		}
	}
	var errs []error
	for run := range dead {
		logf("testbed: removing the leftovers of run %s (its owner is gone)", run)
		if err := removeRun(ctx, run, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeRun deletes everything of a run: processes inside its namespaces,
// the Docker containers of its nodes, its root-namespace uplink, its
// namespaces, its data directory and its state directory (last, so a
// half-removed run is still found by the next sweep).
func removeRun(ctx context.Context, run string, d *dockerSweeper) error {
	var errs []error
	nss, err := namespaces(ctx)
	if err != nil {
		return err
	}
	var mine []string
	for _, ns := range nss {
		if strings.HasPrefix(ns, run+"-") {
			mine = append(mine, ns)
		}
	}
	for _, ns := range mine {
		if err := killNamespacePids(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.remove(ctx, run+"-"); err != nil {
		errs = append(errs, err)
	}
	if err := deleteLinkIfExists(ctx, run); err != nil {
		errs = append(errs, err)
	}
	for _, ns := range mine {
		if _, err := ip(ctx, "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(dataDir(run)); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(filepath.Join(StateDir, run)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("testbed: removing run %s: %w", run, err)
	}
	return nil
}

// killNamespacePids SIGKILLs every process inside a namespace and waits
// (briefly) until none is left.
func killNamespacePids(ctx context.Context, ns string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := ip(ctx, "netns", "pids", ns)
		if err != nil {
			return err
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in namespace %s survive SIGKILL", pids, ns)
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deleteLinkIfExists deletes a link of the root namespace by name.
func deleteLinkIfExists(ctx context.Context, name string) error {
	ls, err := links(ctx, "")
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Name == name {
			_, err := ip(ctx, "link", "del", name)
			return err
		}
	}
	return nil
}

// claimSubnet picks the first /24 of rng that no live run holds and that
// overlaps no route of the root namespace, and records it as held by run
// for site. Called with the state lock held.
func claimSubnet(ctx context.Context, rng netip.Prefix, run, site string) (netip.Prefix, error) {
	held, err := heldSubnets()
	if err != nil {
		return netip.Prefix{}, err
	}
	rs, err := routes(ctx, "")
	if err != nil {
		return netip.Prefix{}, err
	}
	for _, r := range rs {
		if p, err := r.prefix(); err == nil && p.Bits() > 0 {
			held = append(held, p)
		}
	}
	for p := range subnets(rng) {
		if overlapsAny(p, held) {
			continue
		}
		f := filepath.Join(StateDir, run, subnetFilePrefix+site)
		if err := os.WriteFile(f, []byte(p.String()+"\n"), 0o644); err != nil {
			return netip.Prefix{}, fmt.Errorf("testbed: recording subnet %s: %w", p, err)
		}
		return p, nil
	}
	return netip.Prefix{}, fmt.Errorf("testbed: no free /24 left in %s (held by other runs or routed in the root namespace)", rng)
}

// heldSubnets are the site subnets recorded by every run in StateDir.
func heldSubnets() ([]netip.Prefix, error) {
	files, err := filepath.Glob(filepath.Join(StateDir, "*", subnetFilePrefix+"*"))
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // removed by its run meanwhile
		}
		if p, err := netip.ParsePrefix(strings.TrimSpace(string(b))); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// subnets yields the /24s of an IPv4 range, in order.
func subnets(rng netip.Prefix) func(func(netip.Prefix) bool) {
	return func(yield func(netip.Prefix) bool) {
		rng = rng.Masked()
		if rng.Bits() > 24 {
			return
		}
		base := rng.Addr().As4()
		n := 1 << (24 - rng.Bits())
		for i := range n {
			b := base
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8
			v += uint32(i) << 8
			b = [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}
			if !yield(netip.PrefixFrom(netip.AddrFrom4(b), 24)) {
				return
			}
		}
	}
}

func overlapsAny(p netip.Prefix, others []netip.Prefix) bool {
	for _, o := range others {
		if p.Overlaps(o) {
			return true
		}
	}
	return false
}
