// Package flowcontrol decides which API requests run now, wait, or are
// turned away, in the manner of Kubernetes' API Priority and Fairness:
//
//   - every request belongs to a priority level by who sends it: system
//     (the control plane's own components), node (agents and joining
//     machines) or workload (people and tools with admin or viewer
//     tokens); each level has seats of its own, so no level waits behind
//     another, and the control plane and agents never queue behind users;
//   - within a level, each identity (token) may hold at most a share of
//     the seats, and requests that find no seat wait in a queue per
//     identity, served round-robin, for a short while before a 429; one
//     busy token thus cannot take every seat, nor make others wait behind
//     its backlog;
//   - long-running requests (watches, followed logs) take no seat, but
//     each identity may hold only so many open at once.
//
// Seats are held for the handler's work only: the HTTP layer reads a
// request body (under a deadline) before it asks for a seat, so a client
// that sends slowly holds a connection, not a seat.
package flowcontrol

import (
	"fmt"
	"time"
)

// Level is a priority level.
type Level string

// Priority levels, from most to least trusted.
const (
	System   Level = "system"
	Node     Level = "node"
	Workload Level = "workload"
)

// Levels lists every level, in order.
var Levels = []Level{System, Node, Workload}

// LevelConfig sizes one priority level.
type LevelConfig struct {
	// Seats is how many requests of the level run at once.
	Seats int
	// PerIdentity is how many seats one identity may hold (0: all).
	PerIdentity int
	// QueueLength is how many requests one identity may have waiting for
	// a seat (0: none wait; a request finding no seat is refused at once).
	QueueLength int
	// QueueWait is how long a request waits for a seat before it is
	// refused.
	QueueWait time.Duration
}

// Config sizes the levels and the long-running requests.
type Config struct {
	Levels map[Level]LevelConfig
	// MaxLongRunningPerIdentity bounds the watches and followed logs one
	// identity holds open (0: no bound). The system level is exempt.
	MaxLongRunningPerIdentity int
}

// Defaults. The system level serves one leader's scheduler and
// controllers; the node level every agent's heartbeats, status updates and
// reads; the workload level people, CI and Terraform.
const (
	DefaultSystemSeats      = 200
	DefaultNodeSeats        = 400
	DefaultWorkloadSeats    = 400
	DefaultSeatsPerIdentity = 100
	DefaultQueueLength      = 50
	DefaultQueueWait        = time.Second
	// DefaultMaxLongRunningPerIdentity is far above what an informer-based
	// client opens (a watch per kind), and bounds how many streams one
	// token can hold.
	DefaultMaxLongRunningPerIdentity = 500
)

// DefaultConfig is the configuration with every default.
func DefaultConfig() Config {
	return Config{
		Levels: map[Level]LevelConfig{
			System:   {Seats: DefaultSystemSeats, QueueLength: DefaultQueueLength, QueueWait: DefaultQueueWait},
			Node:     {Seats: DefaultNodeSeats, PerIdentity: DefaultSeatsPerIdentity, QueueLength: DefaultQueueLength, QueueWait: DefaultQueueWait},
			Workload: {Seats: DefaultWorkloadSeats, PerIdentity: DefaultSeatsPerIdentity, QueueLength: DefaultQueueLength, QueueWait: DefaultQueueWait},
		},
		MaxLongRunningPerIdentity: DefaultMaxLongRunningPerIdentity,
	}
}

// Reasons a request is refused.
const (
	ReasonQueueFull = "queue-full"
	ReasonTimeout   = "time-out"
	ReasonTooMany   = "long-running-limit"
)

// Rejection says why a request was refused and when to come back.
type Rejection struct {
	Level      Level
	Reason     string
	RetryAfter time.Duration
	msg        string
}

func (r *Rejection) Error() string { return r.msg }

func reject(level Level, reason string, retry time.Duration, format string, args ...any) *Rejection {
	return &Rejection{Level: level, Reason: reason, RetryAfter: retry, msg: fmt.Sprintf(format, args...)}
}
