//go:build linux

package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroups makes one cgroup per container under a parent, in the cpu and
// memory hierarchies (v1) or the unified one (v2).
type cgroups struct {
	v2 bool
	// parents are the parent cgroup's directories: one per v1 controller
	// (cpu, memory), or the single v2 one.
	parents []string
	// shims are <parent>/shims in each hierarchy: the shims' own cgroup,
	// out of the containers' limits (and, under systemd, out of the
	// agent's unit's cpu and memory cgroups).
	shims []string
}

// warnOnce makes "no limits" a single warning per agent, not one per Runtime.
var warnOnce sync.Once

// detectCgroups finds usable cgroups and creates the parent, or returns
// nil after a warning: containers then run without limits.
func detectCgroups(parent string, log *slog.Logger) *cgroups {
	cg, err := setupCgroups(parent)
	if err != nil {
		warnOnce.Do(func() {
			log.Warn("containers run without cpu and memory limits", "reason", err)
		})
		return nil
	}
	return cg
}

func setupCgroups(parent string) (*cgroups, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not running as root")
	}
	parent = strings.Trim(parent, "/")
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		return setupV2(parent)
	}
	cg := &cgroups{}
	for _, ctl := range []struct{ name, probe string }{{"cpu", "cpu.cfs_quota_us"}, {"memory", "memory.limit_in_bytes"}} {
		base := filepath.Join(cgroupRoot, ctl.name)
		if _, err := os.Stat(filepath.Join(base, ctl.probe)); err != nil {
			return nil, fmt.Errorf("cgroup v1 %s controller not mounted at %s", ctl.name, base)
		}
		dir := filepath.Join(base, parent)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		cg.parents = append(cg.parents, dir)
	}
	return cg, cg.makeShims()
}

func (cg *cgroups) makeShims() error {
	for _, p := range cg.parents {
		dir := filepath.Join(p, "shims")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		cg.shims = append(cg.shims, dir)
	}
	return nil
}

func setupV2(parent string) (*cgroups, error) {
	b, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	if err != nil {
		return nil, err
	}
	avail := strings.Fields(string(b))
	for _, c := range []string{"cpu", "memory"} {
		if !slices.Contains(avail, c) {
			return nil, fmt.Errorf("cgroup v2 controller %s unavailable", c)
		}
	}
	// Enable cpu and memory for children, level by level down to parent
	// (no process may live in these intermediate cgroups).
	dir := cgroupRoot
	for _, part := range strings.Split(parent, "/") {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu +memory"), 0); err != nil {
			return nil, fmt.Errorf("enabling cpu and memory in %s: %w", dir, err)
		}
		dir = filepath.Join(dir, part)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu +memory"), 0); err != nil {
		return nil, fmt.Errorf("enabling cpu and memory in %s: %w", dir, err)
	}
	cg := &cgroups{v2: true, parents: []string{dir}}
	return cg, cg.makeShims()
}

// create makes the container's cgroups with its limits and returns their
// directories.
func (cg *cgroups) create(id string, res runtime.Resources) ([]string, error) {
	var dirs []string
	for _, p := range cg.parents {
		dir := filepath.Join(p, id)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return dirs, err
		}
		dirs = append(dirs, dir)
	}
	shares := max(res.CPURequestMilli*1024/1000, 2)
	var files [][2]string // file, value, in order
	if cg.v2 {
		d := dirs[0]
		quota := "max"
		if res.CPULimitMilli > 0 {
			quota = strconv.FormatInt(res.CPULimitMilli*100, 10) // of a 100ms period
		}
		// The kubelet's shares -> weight conversion.
		weight := 1 + ((shares-2)*9999)/262142
		files = append(files, [2]string{d + "/cpu.weight", strconv.FormatInt(weight, 10)},
			[2]string{d + "/cpu.max", quota + " 100000"})
		if res.MemoryLimit > 0 {
			files = append(files, [2]string{d + "/memory.max", strconv.FormatInt(res.MemoryLimit, 10)},
				[2]string{d + "/memory.swap.max", "0"})
		}
	} else {
		cpu, mem := dirs[0], dirs[1]
		files = append(files, [2]string{cpu + "/cpu.shares", strconv.FormatInt(shares, 10)})
		if res.CPULimitMilli > 0 {
			files = append(files, [2]string{cpu + "/cpu.cfs_period_us", "100000"},
				[2]string{cpu + "/cpu.cfs_quota_us", strconv.FormatInt(res.CPULimitMilli*100, 10)})
		}
		if res.MemoryLimit > 0 {
			// memory first: memsw may never be below it.
			files = append(files, [2]string{mem + "/memory.limit_in_bytes", strconv.FormatInt(res.MemoryLimit, 10)},
				[2]string{mem + "/memory.memsw.limit_in_bytes", strconv.FormatInt(res.MemoryLimit, 10)})
		}
	}
	for _, f := range files {
		err := os.WriteFile(f[0], []byte(f[1]), 0)
		if err != nil && !(errors.Is(err, os.ErrNotExist) && strings.Contains(f[0], "swap")) {
			return dirs, fmt.Errorf("setting %s: %w", f[0], err)
		}
	}
	return dirs, nil
}

// removeCgroups deletes a container's cgroups; the kernel refuses (EBUSY)
// while exiting processes are still accounted, so it retries briefly.
func removeCgroups(dirs []string) error {
	var errs []error
	for _, d := range dirs {
		var err error
		for range 50 {
			if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
				err = nil
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
