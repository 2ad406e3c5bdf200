// Package autoscaler is the horizontal autoscaler: for each Autoscaler it
// reads the target deployment's pods and their usage (Metrics), proposes a
// replica count per metric with Kubernetes' replica calculator
// (replica_calculator.go), keeps the largest, applies the bounds and the
// behaviour (stabilisation windows, scaling policies) and writes the
// target's replicas and the autoscaler's status.
package autoscaler
