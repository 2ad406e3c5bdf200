// Package clusterautoscaler grows and shrinks node pools that have
// spec.autoscaling, between their minSize and maxSize, as Kubernetes'
// cluster-autoscaler does: it only changes a pool's spec.size (and, on
// scale-down, marks the machine to remove); the node pool controller makes
// or drains and deletes the machines.
//
// Data flow: pods the scheduler marked unschedulable (PodScheduled False,
// reason Unschedulable) are batched (1 s of quiet, 10 s at most), then
// PlanScaleUp (pure) runs the scheduler's own pipeline (scheduler.Preview)
// on the real nodes plus a template node per machine a pool is still adding,
// then on 1..room template nodes of each pool, and picks the pool with the
// least waste. PlanScaleDown (pure) finds nodes whose requested cpu and
// memory stay under a threshold and whose pods all fit on the other nodes
// (again scheduler.Preview); once one stays so for the unneeded time, the
// controller marks its machine (api.AnnotationDeleteMachine) and lowers the
// pool's size by one.
package clusterautoscaler
