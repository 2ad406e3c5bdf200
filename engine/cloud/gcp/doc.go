// Package gcp is the cloud.Cloud of Compute Engine instances in one Google
// Cloud project, through the official client (cloud.google.com/go/compute/apiv1,
// REST: InstancesClient and ZoneOperationsClient).
//
//	Create(req) -> List by labels maestro-cluster + maestro-key: the key's machine, if any, is returned
//	  -> instances.insert in req.Zone (or Options.Zone), requestId = the key when it is a UUID (a
//	     Machine's uid), else a UUID derived from it: a repeated or lost insert gets the first
//	     insert's operation, never a second instance; 409 alreadyExists -> that instance if the key's
//	  -> zoneOperations.wait until DONE; an operation error (ZONE_RESOURCE_POOL_EXHAUSTED, ...) is
//	     the Create's error -> instances.get -> the Machine
//	Get(zone/name) -> instances.get; List -> instances.aggregatedList with a label filter, every page
//	Delete(zone/name) -> instances.delete + wait; 404 -> nil
//	Logs(zone/name) -> instances.getSerialPortOutput (port 1: the startup script's output), last lines
//
// An instance is named after its machine when the name is a Compute Engine
// name (RFC 1035, at most 63), else by a stable encoding with a hash. Its
// labels maestro-cluster, maestro-pool, maestro-machine and maestro-key
// select it (label values are encoded the same way when they do not fit);
// its metadata holds those exact values and the startup-script, which is
// cloud.UserData: the join token. The script is never logged: the
// library's own logger, which at debug level logs request bodies, is
// silenced, and the cloud logs names only. A spot machine has
// Scheduling{ProvisioningModel SPOT, InstanceTerminationAction DELETE,
// AutomaticRestart false, OnHostMaintenance TERMINATE}.
//
// States: PROVISIONING, STAGING, REPAIRING are pending; RUNNING running;
// STOPPING, SUSPENDING stopping; TERMINATED, STOPPED, SUSPENDED terminated.
// Interrupted: a spot instance that is stopping or terminated and whose
// zone shows a compute.instances.preempted operation targeting it (the
// record Compute Engine keeps of a preemption; one zoneOperations.list per
// such instance).
//
// Errors: ZONE_RESOURCE_POOL_EXHAUSTED -> ErrCapacity; QUOTA_EXCEEDED /
// quotaExceeded -> ErrQuota; 401, 403 and credentials that cannot be found
// or are refused -> ErrPermission; 400 (an unknown machine type: "Invalid
// value for field 'resource.machineType' ...") and a 404 on create (zone,
// image, network) -> ErrInvalid; 404 otherwise -> ErrNotFound; 429,
// rateLimitExceeded, 5xx and dropped connections are retried with
// jittered exponential backoff (Options.RetryMaxAttempts, RetryMaxBackoff;
// the library's own retries are off), then ErrTransient. The message is
// Google's own.
//
// Credentials are Application Default Credentials unless Options gives a
// key: CredentialsJSON (its content, a cloud.Secret) or CredentialsFile;
// Options.Endpoint points the client at another server (gcefake's URL in
// tests). Logs reads the serial console (cloud.LogReader).
package gcp
