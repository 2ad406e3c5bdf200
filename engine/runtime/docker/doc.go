// Package docker is the runtime.Runtime over the Docker Engine API.
//
// A pod sandbox is an infra container (a tiny program that waits for
// SIGTERM) that holds the pod's network and IPC namespaces, with the pod's
// hostname and DNS settings. Docker networking is off (NetworkMode none):
// the sandbox reports its namespace (Sandbox.NetNS, from the infra
// container's pid) and the agent's pod network (engine/network) gives it
// an interface, an address and host ports. App containers join it with
// NetworkMode/IpcMode "container:<infra id>". Everything carries the
// runtime package's labels, and every lookup after an agent restart goes
// through label filters: the engine is the only state.
//
// Images are pulled, or built without a registry from one static binary
// (ImportBinary) or loaded from a `docker save` archive (LoadArchive).
//
// The client negotiates the API version; the engine must speak API 1.41
// (Docker 20.10) or later for one-shot stats and ImageLoad's JSON output.
package docker
