// Package simnode runs simulated nodes ("hollow nodes"): they register a
// Node, heartbeat, and report the pods bound to them Running and Ready
// without running any container. Tests use them to exercise the scheduler
// and controllers; `maestro simnodes` uses them for scale experiments.
//
// One Fleet serves many nodes with one pod watch (not one per node), so a
// process can simulate thousands. Pod behaviour is steered by annotations:
//
//	sim.maestro.dev/ready: "false"   the pod runs but never turns ready
//	sim.maestro.dev/cpu: "300m"      each container's reported cpu use
//	sim.maestro.dev/memory: "200Mi"  each container's reported memory use
//
// Every node reports its pods' usage to the metrics API each
// MetricsInterval (by default half of each container's requests).
//
// A node whose heartbeats are stopped (Node.Stop) also stops reporting its
// pods, like a machine that lost power.
package simnode

// AnnotationReady set to "false" keeps a simulated pod unready.
const AnnotationReady = "sim.maestro.dev/ready"
