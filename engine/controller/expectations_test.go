package controller

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type expectTestClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *expectTestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *expectTestClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestExpectationsCreatesAndDeletes(t *testing.T) {
	e := NewExpectations(nil)
	const key = "default/web"
	if !e.Satisfied(key) {
		t.Fatal("a key without expectations must be satisfied")
	}
	e.Expect(key, 2, []string{"a", "b"})
	steps := []struct {
		name        string
		do          func()
		adds, dels  int
		satisfiedAt bool
	}{
		{"one create seen", func() { e.CreationObserved(key) }, 1, 2, false},
		{"second create seen", func() { e.CreationObserved(key) }, 0, 2, false},
		{"unexpected delete ignored", func() { e.DeletionObserved(key, "zzz") }, 0, 2, false},
		{"delete seen", func() { e.DeletionObserved(key, "a") }, 0, 1, false},
		{"same delete seen twice", func() { e.DeletionObserved(key, "a") }, 0, 1, false},
		{"last delete seen", func() { e.DeletionObserved(key, "b") }, 0, 0, true},
		{"extra create seen", func() { e.CreationObserved(key) }, 0, 0, true},
	}
	for _, s := range steps {
		s.do()
		adds, dels := e.Pending(key)
		if adds != s.adds || dels != s.dels || e.Satisfied(key) != s.satisfiedAt {
			t.Fatalf("%s: pending (%d, %d) satisfied %v, want (%d, %d) %v", s.name, adds, dels, e.Satisfied(key), s.adds, s.dels, s.satisfiedAt)
		}
	}
	if !e.Satisfied("default/other") {
		t.Error("expectations leaked to another key")
	}
}

func TestExpectationsExpire(t *testing.T) {
	clock := &expectTestClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := NewExpectations(clock.Now)
	e.Expect("k", 1, nil)
	clock.advance(ExpectationsTimeout)
	if e.Satisfied("k") {
		t.Fatal("satisfied before the timeout")
	}
	clock.advance(time.Second)
	if !e.Satisfied("k") {
		t.Fatal("still waiting after the timeout: a lost event would stall the controller")
	}
	// A new expectation restarts the clock.
	e.Expect("k", 1, nil)
	if e.Satisfied("k") {
		t.Fatal("a fresh expectation must not inherit the old timestamp")
	}
	e.Delete("k")
	if !e.Satisfied("k") {
		t.Fatal("a deleted key must be satisfied")
	}
}

func TestExpectationsConcurrent(t *testing.T) {
	e := NewExpectations(nil)
	const n = 200
	uids := make([]string, n)
	for i := range uids {
		uids[i] = fmt.Sprintf("uid-%d", i)
	}
	e.Expect("k", n, uids)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e.CreationObserved("k")
			e.DeletionObserved("k", uids[i])
			_ = e.Satisfied("k")
		})
	}
	wg.Wait()
	if adds, dels := e.Pending("k"); adds != 0 || dels != 0 || !e.Satisfied("k") {
		t.Fatalf("pending (%d, %d) after every event was observed", adds, dels)
	}
}
