package clusterautoscaler

import "time"

// Batch gathers newly pending pods before a scale-up decision, so that a
// deployment of 20 replicas, whose pods the scheduler reports one after
// the other, makes one decision over all 20 rather than 20 decisions of
// one: it is ready once no new pod came for Quiet, or Max after the first.
type Batch struct {
	Quiet, Max  time.Duration
	first, last time.Time
	seen        map[string]bool
}

// Observe notes a pending pod; only pods not seen before open or extend
// the batch.
func (b *Batch) Observe(pod string, now time.Time) {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if b.seen[pod] {
		return
	}
	b.seen[pod] = true
	if b.first.IsZero() {
		b.first = now
	}
	b.last = now
}

// Ready reports whether the batch is due; when it is not but holds pods,
// wait is how long until it is.
func (b *Batch) Ready(now time.Time) (ready bool, wait time.Duration) {
	if b.first.IsZero() {
		return false, 0
	}
	due := b.last.Add(b.Quiet)
	if limit := b.first.Add(b.Max); limit.Before(due) {
		due = limit
	}
	if !now.Before(due) {
		return true, 0
	}
	return false, due.Sub(now)
}

// Done closes the batch; the pods it saw do not open a new one.
func (b *Batch) Done() { b.first, b.last = time.Time{}, time.Time{} }

// Retain forgets the pods keep reports false for (they ran, or were
// deleted): should they come back pending, they open a batch again.
func (b *Batch) Retain(keep func(pod string) bool) {
	for k := range b.seen {
		if !keep(k) {
			delete(b.seen, k)
		}
	}
}
