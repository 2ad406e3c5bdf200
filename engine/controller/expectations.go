package controller

import (
	"sync"
	"time"
)

// ExpectationsTimeout is how long a controller waits for its informer to
// report the creates and deletes it issued before it acts again anyway (a
// lost watch event must not stall an object for ever).
const ExpectationsTimeout = 5 * time.Minute

// Expectations remember, per controller key, the creates and deletes a
// controller has issued and its informer has not reported yet, like
// client-go's ControllerExpectations. A reconcile that reads the cache
// while they are pending would see too few (or too many) pods and act
// twice, so the controller skips acting until they are satisfied.
//
// Creates are counted (the names of generated objects are not known in
// advance); deletes are tracked by UID, so a pod reported twice (marked
// for deletion, then gone) is counted once. Safe for concurrent use.
type Expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[string]struct{}
	at      time.Time
}

func (e *expectation) fulfilled() bool { return e.adds <= 0 && len(e.deletes) == 0 }

// NewExpectations builds an empty set; now is the clock (time.Now if nil).
func NewExpectations(now func() time.Time) *Expectations {
	if now == nil {
		now = time.Now
	}
	return &Expectations{now: now, m: map[string]*expectation{}}
}

// Expect replaces key's expectations: adds creates and deletes of the
// objects with the given UIDs are about to be issued.
func (e *Expectations) Expect(key string, adds int, deleteUIDs []string) {
	exp := &expectation{adds: adds, deletes: make(map[string]struct{}, len(deleteUIDs)), at: e.now()}
	for _, uid := range deleteUIDs {
		exp.deletes[uid] = struct{}{}
	}
	e.mu.Lock()
	e.m[key] = exp
	e.mu.Unlock()
}

// CreationObserved records that the informer saw one of key's creates, or
// that one was not issued or failed (it will never be seen).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp := e.m[key]; exp != nil {
		exp.adds--
	}
}

// DeletionObserved records that the object with uid is gone (or going), or
// that its delete failed. UIDs not expected are ignored.
func (e *Expectations) DeletionObserved(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp := e.m[key]; exp != nil {
		delete(exp.deletes, uid)
	}
}

// Satisfied reports whether key may act: nothing is pending, or what is
// pending has waited longer than ExpectationsTimeout.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp := e.m[key]
	if exp == nil || exp.fulfilled() {
		return true
	}
	return e.now().Sub(exp.at) > ExpectationsTimeout
}

// Pending returns the creates and deletes key still waits for.
func (e *Expectations) Pending(key string) (adds, deletes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp := e.m[key]; exp != nil {
		return max(exp.adds, 0), len(exp.deletes)
	}
	return 0, 0
}

// Delete forgets key (its object is gone).
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	delete(e.m, key)
	e.mu.Unlock()
}
