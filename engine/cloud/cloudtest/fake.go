package cloudtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Fake is an in-memory cloud.Cloud for controller tests: machines are
// records, Create and Delete call hooks (a test registers a simulated
// node when a machine is created), and creates can be made to fail. It
// passes the conformance suite (TestFakeConformance).
type Fake struct {
	// OnCreate runs after a new machine is made (not for a repeated key);
	// OnDelete before a machine is removed. Both run without the lock.
	OnCreate func(req cloud.MachineRequest, m cloud.Machine)
	OnDelete func(m cloud.Machine)

	mu        sync.Mutex
	seq       int
	machines  map[string]cloud.Machine
	keys      map[string]string // idempotency key -> id
	requests  []cloud.MachineRequest
	deleted   []string
	createErr error
	deleteErr error
	listErr   error
	deletes   int // Delete calls that failed with deleteErr
	logs      string
	full      map[string]bool // zones without capacity
}

var (
	_ cloud.Cloud     = (*Fake)(nil)
	_ cloud.LogReader = (*Fake)(nil)
)

// NewFake returns an empty fake cloud.
func NewFake() *Fake {
	return &Fake{machines: map[string]cloud.Machine{}, keys: map[string]string{}}
}

// FailDeletes makes every Delete fail with err (nil: succeed again), as
// an ssh host that does not answer.
func (f *Fake) FailDeletes(err error) {
	f.mu.Lock()
	f.deleteErr = err
	f.mu.Unlock()
}

// FailLists makes every List fail with err (nil: succeed again), as an
// ssh cloud whose hosts refuse its key.
func (f *Fake) FailLists(err error) {
	f.mu.Lock()
	f.listErr = err
	f.mu.Unlock()
}

// FailedDeletes is how many Delete calls failed with FailDeletes' error.
func (f *Fake) FailedDeletes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deletes
}

// FailCreates makes every Create fail with err (nil: succeed again).
func (f *Fake) FailCreates(err error) {
	f.mu.Lock()
	f.createErr = err
	f.mu.Unlock()
}

// NoCapacityIn makes creates in zone fail with ErrCapacity (full false:
// succeed again), as a cloud zone out of an instance type.
func (f *Fake) NoCapacityIn(zone string, full bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full == nil {
		f.full = map[string]bool{}
	}
	f.full[zone] = full
}

// SetMachine changes machine id as its cloud would (its State, or
// Interrupted for a spot machine about to be reclaimed); false if there
// is no such machine.
func (f *Fake) SetMachine(id string, change func(m *cloud.Machine)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.machines[id]
	if ok {
		change(&m)
		f.machines[id] = m
	}
	return ok
}

// SetLogs sets what Logs returns for every machine.
func (f *Fake) SetLogs(s string) {
	f.mu.Lock()
	f.logs = s
	f.mu.Unlock()
}

// Requests returns the successful create requests so far (join tokens included).
func (f *Fake) Requests() []cloud.MachineRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// Deleted returns the names of the machines deleted so far, in order.
func (f *Fake) Deleted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deleted)
}

// Create implements cloud.Cloud.
func (f *Fake) Create(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("fake: create %q: %w", req.Name, err)
	}
	if err := req.Validate(); err != nil {
		return cloud.Machine{}, err
	}
	f.mu.Lock()
	if id, ok := f.keys[req.IdempotencyKey]; ok {
		m := f.machines[id]
		f.mu.Unlock()
		if !req.SameRequest(m) {
			return cloud.Machine{}, cloud.Errorf(cloud.ErrInvalid, "fake", "create", "idempotencyKey: already used by machine %q", id)
		}
		return m, nil
	}
	if f.createErr != nil {
		err := f.createErr
		f.mu.Unlock()
		return cloud.Machine{}, err
	}
	if f.full[req.Zone] {
		f.mu.Unlock()
		return cloud.Machine{}, cloud.Errorf(cloud.ErrCapacity, "fake", "create", "no capacity for %s in zone %s", req.MachineType, req.Zone)
	}
	f.seq++
	m := cloud.Machine{ID: fmt.Sprintf("fake-%d", f.seq), Name: req.Name, Cluster: req.Cluster, Pool: req.Pool,
		Zone: req.Zone, MachineType: req.MachineType, State: cloud.StateRunning, Spot: req.Spot,
		Addresses: []string{fmt.Sprintf("192.0.2.%d", f.seq%250+1)}, CreatedAt: time.Now().UTC()}
	f.machines[m.ID] = m
	f.keys[req.IdempotencyKey] = m.ID
	f.requests = append(f.requests, req)
	hook := f.OnCreate
	f.mu.Unlock()
	if hook != nil {
		hook(req, m)
	}
	return m, nil
}

// Get implements cloud.Cloud.
func (f *Fake) Get(ctx context.Context, id string) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("fake: get %q: %w", id, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.machines[id]
	if !ok {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrNotFound, "fake", "get", "machine %q", id)
	}
	return m, nil
}

// List implements cloud.Cloud.
func (f *Fake) List(ctx context.Context, flt cloud.Filter) ([]cloud.Machine, error) {
	if err := flt.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fake: list: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []cloud.Machine
	for _, m := range f.machines {
		if flt.Matches(m) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b cloud.Machine) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Delete implements cloud.Cloud.
func (f *Fake) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fake: delete %q: %w", id, err)
	}
	f.mu.Lock()
	m, ok := f.machines[id]
	hook, failure := f.OnDelete, f.deleteErr
	if ok && failure != nil {
		f.deletes++
	}
	f.mu.Unlock()
	if !ok {
		return nil
	}
	if failure != nil {
		return failure
	}
	if hook != nil {
		hook(m)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.machines[id]; ok {
		delete(f.machines, id)
		for k, v := range f.keys {
			if v == id {
				delete(f.keys, k)
			}
		}
		f.deleted = append(f.deleted, m.Name)
	}
	return nil
}

// Logs implements cloud.LogReader.
func (f *Fake) Logs(ctx context.Context, id string, lines int) (string, error) {
	if _, err := f.Get(ctx, id); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs, nil
}
