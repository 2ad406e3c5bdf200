package registry

import "sort"

// ring holds a kind's most recent changes in revision order, within a
// count and a byte budget (a few large objects must not pin gigabytes).
type ring struct {
	buf      []*change // circular; len(buf) is the count budget
	start, n int
	bytes    int
	maxBytes int
}

func newRing(count, maxBytes int) ring {
	return ring{buf: make([]*change, count), maxBytes: maxBytes}
}

func (r *ring) at(i int) *change { return r.buf[(r.start+i)%len(r.buf)] }

// push appends c, dropping the oldest changes beyond the budgets (never c
// itself), and returns the revision of the newest change dropped (0 when
// none was).
func (r *ring) push(c *change) (dropped int64) {
	for r.n > 0 && (r.n == len(r.buf) || r.bytes+c.size() > r.maxBytes) {
		old := r.at(0)
		r.buf[r.start] = nil
		r.start = (r.start + 1) % len(r.buf)
		r.n--
		r.bytes -= old.size()
		dropped = old.rev
	}
	r.buf[(r.start+r.n)%len(r.buf)] = c
	r.n++
	r.bytes += c.size()
	return dropped
}

// after returns the changes with a revision greater than rev, oldest first.
func (r *ring) after(rev int64) []*change {
	i := sort.Search(r.n, func(i int) bool { return r.at(i).rev > rev })
	out := make([]*change, 0, r.n-i)
	for ; i < r.n; i++ {
		out = append(out, r.at(i))
	}
	return out
}

func (r *ring) reset() {
	clear(r.buf)
	r.start, r.n, r.bytes = 0, 0, 0
}
