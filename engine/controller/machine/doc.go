// Package machine is the Machine controller: it turns a Machine object into
// a cloud machine whose agent joins the cluster as the Node of the same
// name, watches that node, replaces the machine when its node never joins
// or stays NotReady, and releases everything when the Machine is deleted.
// Level-based, one reconcile per machine:
//
//	Pending       single-use join token bound to the machine (role join,
//	              node = machine name, TTL = the pool's startup timeout,
//	              labels = pool labels, pool, zone, instance type); its id
//	              (never the secret) in status.joinTokenID before the cloud
//	              call; cloud.Create with the Machine's uid as idempotency
//	              key -> Provisioning (providerID, addresses, provisionedAt).
//	              A cloud error is condition Provisioned=False, reason
//	              CloudError, with the cloud's message, an event, and a retry
//	              with backoff (quickly when cloud.IsRetryable). A controller
//	              that finds a token it did not make (a restart, a new leader)
//	              first looks for a cloud machine of that name: an earlier
//	              Create may have run, and its agent holds that token.
//	Provisioning  its Node registered and Ready -> Running (nodeReadyAt); the
//	Running       pool's taints and the provider id are put on the Node.
//	              Until then NodeReady=False, reason NodeJoining (NodeNotJoined
//	              is kept for a startup timeout that passed: the provider's
//	              apply fails on it).
//	              Not joined within the startup timeout, or NotReady longer
//	              than the NotReady timeout: remediation (below).
//	deleted       (finalizer maestro.dev/machine) phase Deleting -> drain the
//	              node (engine/controller/drain) until drained or the pool's
//	              drain timeout -> cloud.Delete -> revoke the join token ->
//	              delete the Node -> finalizer removed: the Machine is gone.
//	              A node that is not Ready is not drained (its pods were
//	              evicted by the node lifecycle controller). A cloud.Delete
//	              that may succeed later (an ssh host that does not answer)
//	              is tried again every 10 s, without a growing backoff, the
//	              message saying so: the machine goes soon after its host is
//	              back. Without a provider id the cloud is listed for the
//	              machine's name (a Create whose answer was lost); a cloud
//	              that refuses the listing (ErrInvalid: a wrong key) as it
//	              refused the Create is not waited for.
//
// Remediation, after Cluster API's MachineHealthCheck: the machine gets
// phase Failed, condition NodeReady=False (NodeNotJoined with the agent's
// last log lines when the cloud is a cloud.LogReader, or NodeNotReady), an
// event, and is deleted; the pool controller creates its replacement at
// once (a deleting machine counts for nothing but its ssh host). At
// most remediation.maxInFlight machines of a pool are being replaced at
// once (those deleting with NodeReady=False, and those this controller
// deleted and has not seen deleting yet).
//
// Taints are applied after the node joins (a pod may be scheduled in the
// moment between registration and the update; join tokens carry labels
// but not taints).
package machine
