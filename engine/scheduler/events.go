package scheduler

import (
	"maps"
	"sync"
	"time"
)

// EventFailedScheduling is the reason of the Warning event the scheduler
// records on a pod that fits no node, with the counted reasons as its
// message ("0/3 nodes available: 3 node(s) didn't match pod anti-affinity
// rules"), as Kubernetes' scheduler does.
const EventFailedScheduling = "FailedScheduling"

// failedSchedulingRepeat is how often an unchanged verdict on one pod is
// recorded again. A pending pod is retried on every change in the cluster;
// recording each retry would write to the store that often. The recorder
// folds a repeat into the same event (its count and last time), so a pod
// pending for an hour is one event counting about 60 verdicts.
const failedSchedulingRepeat = time.Minute

// eventLimiter remembers the last verdict recorded per pod: a new message
// is recorded at once, the same one at most every failedSchedulingRepeat.
type eventLimiter struct {
	mu        sync.Mutex
	last      map[string]toldVerdict
	lastPrune time.Time
}

type toldVerdict struct {
	msg string
	at  time.Time
}

// allow reports whether the verdict msg on the pod key should be recorded
// now, and if so remembers it.
func (l *eventLimiter) allow(key, msg string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.last[key]; ok && prev.msg == msg && now.Sub(prev.at) < failedSchedulingRepeat {
		return false
	}
	if l.last == nil {
		l.last = map[string]toldVerdict{}
	}
	l.last[key] = toldVerdict{msg, now}
	return true
}

// prune forgets verdicts older than the repeat interval (pods that got
// placed or went away; a pod still pending is told again anyway), at
// most once per interval.
func (l *eventLimiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) < failedSchedulingRepeat {
		return
	}
	l.lastPrune = now
	maps.DeleteFunc(l.last, func(_ string, v toldVerdict) bool { return now.Sub(v.at) >= failedSchedulingRepeat })
}
