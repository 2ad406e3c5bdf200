package agent

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := newBackoff(10*time.Second, 40*time.Second)
	t0 := time.Unix(1000, 0)
	now := t0
	var delays []time.Duration
	for range 5 {
		d := b.next("pod/c", now)
		delays = append(delays, d)
		if d > 0 && !b.inBackoff("pod/c", now.Add(d-time.Millisecond)) {
			t.Fatalf("not backing off just before a %s delay ends", d)
		}
		if b.inBackoff("pod/c", now.Add(d)) {
			t.Fatalf("still backing off when a %s delay ended", d)
		}
		now = now.Add(d)
	}
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("delays %v, want %v", delays, want)
		}
	}
	// A long quiet period starts over.
	if d := b.next("pod/c", now.Add(2*time.Minute)); d != 0 {
		t.Fatalf("after a quiet period the delay is %s, want 0", d)
	}
	b.forget("pod/")
	if b.inBackoff("pod/c", now) {
		t.Fatal("forgotten key still backs off")
	}
}
