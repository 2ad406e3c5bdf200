// Package nodepool is the NodePool controller: it keeps spec.size
// Machines of a pool, made from its template, spread over its zones, and
// replaces them one step at a time when the template changes.
//
//	NodePool / Machine / Pod informers --handlers--> pool name --> reconcile:
//	  machines of the pool (ownerReferences) + pods per node
//	  -> Compute (plan.go, pure): create (zone, ssh host) / delete
//	  -> Machines created as <pool>-<5 chars> with the pool's labels,
//	     node.maestro.dev/pool and the template hash, owned by the pool;
//	     deleted ones are drained and released by the machine controller
//	  -> ComputeStatus: machines, readyMachines, updatedMachines, Ready
//	     condition (ScalingUp, ScalingDown, RollingOut, MachineFailed,
//	     NotEnoughHosts), events with the same reasons
//
// A pool carries the maestro.dev/nodepool finalizer: deleting it deletes
// its machines first, since their release needs the pool's cloud settings.
package nodepool
