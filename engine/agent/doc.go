// Package agent is maestro's node agent (the kubelet of maestro): it
// registers its Node, heartbeats, and runs the pods bound to it through a
// container runtime.
//
// Data flow:
//
//	informer (pods with spec.nodeName=<node>) --> work queue of pod keys
//	prober result changes, container exits (runtime polling), timers --^
//	worker: syncPod(key)
//	  pod deleted or terminating -> stop containers (SIGTERM, grace, SIGKILL),
//	                                remove sandbox and volumes, delete the pod
//	  otherwise -> sandbox (through network.Runtime: attached to the node's
//	               pod network, address from its IPAM) -> volumes
//	            -> init containers one at a time, each to exit 0 (failures:
//	               back-off, or the pod fails under restartPolicy Never)
//	            -> once initialized, for each app container:
//	                 running + same spec + live -> keep (probes)
//	                 exited / missing -> restart policy + backoff (CrashLoopBackOff)
//	                                     -> image (pull policy; the pod's imagePullSecrets
//	                                        as registry credentials, pullsecrets.go)
//	                                     -> create (security context: pod's and
//	                                        container's merged) + start
//	            -> status from what the runtime reports (only written on change)
//	housekeeping: orphaned containers (pods that are gone) are removed;
//	              dead containers beyond the last one per container are pruned;
//	              addresses of sandboxes that are gone are freed
//	pod network (podnetwork.go): the Node's spec.podCIDR (polled until set,
//	  then on heartbeats) -> network.Setup -> NetworkUnavailable condition
//	mesh: informer on all Nodes --> engine/network/mesh reconciler: routes to
//	      the other nodes' pod CIDRs (host-gw or WireGuard); its key, endpoint
//	      and NetworkUnavailable go out with the node's status (heartbeat)
//
// Everything the agent knows comes from the API and from the runtime's
// labels, so a restarted agent adopts running containers instead of
// restarting them. It learns its cluster's id from the API server before
// it touches the runtime, labels every sandbox with it, and lists only
// its cluster's containers on its node (Agent.filter): other clusters'
// and unlabelled containers on the same engine are never adopted or
// removed.
package agent
