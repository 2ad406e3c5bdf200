package api

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// LeaderFenceHeader carries the fencing token of the elected leader's
// writes: "<election key>@<its create revision>". The API server makes each
// write of such a request conditional, in the same store transaction, on
// that key still existing as created at that revision, so the writes of a
// leader whose lease has ended fail (ReasonLeaderFenced) instead of landing
// after another server has taken over.
const LeaderFenceHeader = "Maestro-Leader-Fence"

// ReasonLeaderFenced: the write carried a leader fence that no longer holds.
const ReasonLeaderFenced = "LeaderFenced"

// IsLeaderFenced reports whether err is a write refused by its leader fence.
func IsLeaderFenced(err error) bool { return ReasonOf(err) == ReasonLeaderFenced }

// LeaderFence names one term of a leader: its election key (relative to
// the cluster's store prefix, under /leader/) and the revision that key was
// created at.
type LeaderFence struct {
	Key      string
	Revision int64
}

var fenceKey = regexp.MustCompile(`^/leader/[a-z0-9-]+/[0-9a-f]{1,16}$`)

// String is the header value.
func (f LeaderFence) String() string { return fmt.Sprintf("%s@%d", f.Key, f.Revision) }

// ParseLeaderFence parses a LeaderFenceHeader value. Only election keys are
// accepted, so a fence cannot be used to probe other keys of the store.
func ParseLeaderFence(v string) (LeaderFence, error) {
	key, rev, ok := strings.Cut(strings.TrimSpace(v), "@")
	n, err := strconv.ParseInt(rev, 10, 64)
	if !ok || err != nil || n <= 0 || !fenceKey.MatchString(key) {
		return LeaderFence{}, fmt.Errorf("%s %q: want /leader/<election>/<lease id in hex>@<revision>", LeaderFenceHeader, v)
	}
	return LeaderFence{Key: key, Revision: n}, nil
}
