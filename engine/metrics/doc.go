// Package metrics is the usage pipeline's memory: node agents report the
// cpu and memory usage of their node, pods and containers every metrics
// interval (default 10 s) and the API server keeps the last report of each
// node here, to serve PodMetrics and NodeMetrics (what `maestro top` and
// the horizontal autoscaler read).
//
// Nothing here is ever written to etcd: usage is ephemeral, replaced every
// interval, and lost (then refilled within one interval) when the API
// server restarts. A report replaces its node's previous one; a node that
// stops reporting for ExpiryIntervals intervals, or whose Node is deleted,
// is forgotten. The cpu rate is computed by the agent from two cumulative
// samples of its interval (the report's window), so one report per node is
// all the server keeps.
package metrics
