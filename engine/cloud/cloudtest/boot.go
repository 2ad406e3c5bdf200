package cloudtest

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
)

// Booter runs the instances of a cloud fake (engine/cloud/aws/ec2fake,
// engine/cloud/gcp/gcefake): the fake calls Boot when an instance starts
// and Halt when it stops, so an instance can be a real emulated host that
// runs its user data (internal/testbed's Booter) or, in unit tests, a
// record (NoBoot).
type Booter interface {
	// Boot starts instance id: a new host that runs script (the instance's
	// user data or startup script) as root, and returns the host's private
	// address. It returns once the host exists; the script runs on.
	Boot(ctx context.Context, id string, script []byte) (netip.Addr, error)
	// Halt powers instance id off: everything it runs stops and its host
	// goes. Halting an unknown or halted instance is not an error.
	Halt(ctx context.Context, id string) error
}

// NoBoot is a Booter whose instances run nothing: each gets the next
// address of Prefix (default 10.255.0.0/16) and Boot keeps its script.
type NoBoot struct {
	Prefix netip.Prefix

	mu      sync.Mutex
	next    netip.Addr
	scripts map[string][]byte
	halted  map[string]bool
}

var _ Booter = (*NoBoot)(nil)

// Boot implements Booter.
func (b *NoBoot) Boot(_ context.Context, id string, script []byte) (netip.Addr, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.scripts == nil {
		b.scripts, b.halted = map[string][]byte{}, map[string]bool{}
		if !b.Prefix.IsValid() {
			b.Prefix = netip.MustParsePrefix("10.255.0.0/16")
		}
		b.next = b.Prefix.Masked().Addr().Next()
	}
	if _, ok := b.scripts[id]; ok {
		return netip.Addr{}, fmt.Errorf("noboot: instance %s booted twice", id)
	}
	if !b.Prefix.Contains(b.next) {
		return netip.Addr{}, fmt.Errorf("noboot: %s is full", b.Prefix)
	}
	addr := b.next
	b.next = b.next.Next()
	b.scripts[id] = append([]byte(nil), script...)
	return addr, nil
}

// Halt implements Booter.
func (b *NoBoot) Halt(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.halted != nil {
		b.halted[id] = true
	}
	return nil
}

// Script is what instance id was booted with (nil if it never was).
func (b *NoBoot) Script(id string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scripts[id]
}

// Booted is how many instances were booted; Running how many of them are
// not halted.
func (b *NoBoot) Booted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.scripts)
}

// Running is how many booted instances are not halted.
func (b *NoBoot) Running() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for id := range b.scripts {
		if !b.halted[id] {
			n++
		}
	}
	return n
}
