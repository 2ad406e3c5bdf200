// Package drain empties a node before its machine is deleted, after
// Cluster API's machine drain (internal/controllers/machine/drain):
//
//	cordon (spec.unschedulable) -> Plan (pure) over the node's pods:
//	  daemon-like pods (controlled by a DaemonSet or by the Node)  skipped: they go with the node
//	  finished pods (Succeeded, Failed)                           deleted, not waited for
//	  pods with a controller (ReplicaSet, ...)                    deleted with their grace period;
//	                                                              the drain waits until they are gone
//	                                                              and their controller's pods run
//	                                                              elsewhere again (Ready, off this node)
//	  pods without a controller                                   deleted too (nothing brings them
//	                                                              back: Cluster API's drain, forced)
//	-> the caller repeats passes until Done or its drain timeout. When no
//	   other node takes pods (Ready, not cordoned: the last machines of a
//	   pool going), replacements cannot come up, so only the evicted pods'
//	   going is waited for.
//
// Plan is pure; Drainer does the writes (cordon, delete) through the API
// and answers "does this owner run elsewhere" from the shared informers.
// A drain remembers the owners of the pods it evicted (in memory, per
// node), so it keeps waiting for them after their pods are gone; a
// restarted controller forgets them and only waits for the pods still on
// the node.
package drain
