// Package local is the cloud.Cloud of machines on this machine: each machine
// is a process (by default `maestro agent`) started by Create, with its own
// directory under Options.Root:
//
//	<root>/machines/<id>/machine.json   the record: request fields, PID, process start time
//	<root>/machines/<id>/join-token     the join token, mode 0600 (never on a command line)
//	<root>/machines/<id>/ca.crt         the cluster CA
//	<root>/machines/<id>/data/          the agent's --data-dir
//	<root>/machines/<id>/machine.log    the process's stdout and stderr
//	<root>/keys/<sha256 of key>         idempotency key -> machine ID (claimed with link(2))
//
// Everything is on disk, so a new Cloud on the same root gets, lists and
// deletes the machines an earlier one (or another process) made. Processes
// run in their own session and outlive the Cloud that started them; a machine
// whose process is gone (or whose PID now belongs to another process, checked
// by the start time in /proc) reports terminated: it is not restarted, the
// Machine controller replaces it. So does a machine whose Create crashed
// before starting its process, once it has been pending for a minute.
//
// The join token reaches the process as a file: MAESTRO_JOIN_TOKEN_FILE in
// its environment and, for the default agent command, `maestro agent
// --join-token-file` (never --join-token, which ps shows to every user).
//
// Delete sends SIGTERM to the process group, SIGKILL after Options.StopGrace,
// and removes the machine's directory and key.
//
// With Options.Network every machine is an emulated host (netns.go): a
// network namespace of its own (mlm-<hash of its ID>) with eth0 on a bridge
// in this namespace, an address claimed under <root>/addresses/<ip>, a
// default route through the bridge's address, and its process started in
// it (`ip netns exec`). Agents on such machines run their own service
// proxy, DNS and pod network as on separate hosts, and reach an API server
// listening on the bridge's address. Delete kills what is left in the
// namespace and deletes it; the bridge (and its FORWARD accept rule) goes
// with the last machine. Without Network, machines share this host's
// network (one agent per host then: tests with stand-in processes).
package local
