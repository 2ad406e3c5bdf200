// Package process is the runtime.Runtime for machines without Docker:
// containers are host processes, and there are no images.
//
// Everything is a file under Options.Root, so a new Runtime on the same
// root (an agent restarting) finds everything again:
//
//	sandboxes/<id>.json            a pod sandbox: its config and state
//	containers/<id>/config.json    the container's config and labels
//	containers/<id>/state.json     written at start: the shim's pid and its
//	                               start time (pid reuse check), cgroups
//	containers/<id>/exit.json      written by the shim when the process ends
//	containers/<id>/log            stdout and stderr, "<RFC 3339 time> <line>"
//
// A container's process runs under a shim: the agent's own binary
// re-executed (see shim.go). The shim leads its own session and process
// group, so it outlives the agent; it timestamps the output into the log,
// waits for the process and records its exit code even when no agent is
// running. Signals go to the whole process group (the shim ignores SIGTERM
// and stays to record the result).
//
// As root a sandbox is a network namespace of its own (bind-mounted under
// Options.Root/netns; the shim starts inside it, so the process does), for
// the agent's pod network to plug in (Sandbox.NetNS). Otherwise, or with
// Options.HostNetworkOnly, pods share the host network, their IP is
// Options.NodeIP, and processes bind the ports they bind. With root and
// cgroups (v1 or v2), each container gets a cgroup of its own under
// Options.CgroupParent with its cpu and memory limits.
package process
