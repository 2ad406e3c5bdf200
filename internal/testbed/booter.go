//go:build linux

package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// Booter makes every instance of a cloud fake (engine/cloud/aws/ec2fake,
// engine/cloud/gcp/gcefake) a real emulated host of one site: Boot adds a
// host and runs the instance's user data there as root, with
// $MAESTRO_ROOT set to a directory of its own (the instance's disk: the
// hosts share this machine's file system); Halt powers it off: its
// processes are killed, the Docker containers of the node its user data
// started are removed, and the host goes.
type Booter struct {
	tb   *Testbed
	site *Site

	mu    sync.Mutex
	insts map[string]*instance
}

type instance struct {
	host *Host
	proc *Process
	node string // the node name the user data joins as (--node-name)
}

var _ cloudtest.Booter = (*Booter)(nil)

// Booter returns a Booter whose instances are hosts of site s.
func (tb *Testbed) Booter(s *Site) *Booter {
	return &Booter{tb: tb, site: s, insts: map[string]*instance{}}
}

var nodeNameArg = regexp.MustCompile(`'--node-name' '([^']+)'`)

// Boot implements cloudtest.Booter.
func (b *Booter) Boot(ctx context.Context, id string, script []byte) (netip.Addr, error) {
	sum := sha256.Sum256([]byte(id))
	name := "i" + hex.EncodeToString(sum[:])[:11]
	h, err := b.tb.addHost(ctx, b.site, name)
	if err != nil {
		return netip.Addr{}, err
	}
	root := filepath.Join(b.tb.logDir, "instances", name)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return netip.Addr{}, fmt.Errorf("testbed: the disk of instance %s: %w", id, err)
	}
	userData := filepath.Join(root, "user-data")
	if err := os.WriteFile(userData, script, 0o700); err != nil {
		return netip.Addr{}, fmt.Errorf("testbed: the user data of instance %s: %w", id, err)
	}
	// The instance runs until Halt or the test bed's cleanup, not for the
	// fake's request that booted it.
	p, err := h.Start(context.WithoutCancel(ctx), "instance-"+name, []string{"sh", userData}, []string{cloud.RootEnv + "=" + root})
	if err != nil {
		return netip.Addr{}, err
	}
	inst := &instance{host: h, proc: p}
	if m := nodeNameArg.FindSubmatch(script); m != nil {
		inst.node = string(m[1])
	}
	b.mu.Lock()
	b.insts[id] = inst
	b.mu.Unlock()
	b.tb.t.Logf("testbed: instance %s booted as host %s (%s), node %q; console in %s", id, name, h.Addr, inst.node, p.LogPath)
	return h.Addr, nil
}

// Halt implements cloudtest.Booter.
func (b *Booter) Halt(ctx context.Context, id string) error {
	b.mu.Lock()
	inst := b.insts[id]
	delete(b.insts, id)
	b.mu.Unlock()
	if inst == nil {
		return nil
	}
	p := inst.proc
	_ = p.Signal(syscall.SIGKILL) // power off: no graceful stop
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
	}
	var errs []error
	if inst.node != "" {
		if err := b.tb.docker.remove(ctx, inst.node); err != nil {
			errs = append(errs, fmt.Errorf("testbed: removing the containers of instance %s: %w", id, err))
		}
	}
	if err := b.tb.removeHost(ctx, inst.host); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Console is the output of instance id's user data (and the agent it
// started), "" for an unknown instance.
func (b *Booter) Console(id string) string {
	b.mu.Lock()
	inst := b.insts[id]
	b.mu.Unlock()
	if inst == nil {
		return ""
	}
	return inst.proc.Log()
}
