// Package ssh is the cloud.Cloud of existing hosts reached over SSH
// (golang.org/x/crypto/ssh): Create turns one of Options.Hosts into a
// machine by installing and starting `maestro agent` there, Delete stops
// and uninstalls it. One machine per host: the request names the host
// (cloud.MachineRequest.Host), and a host that already is another machine
// refuses (ErrCapacity naming it).
//
// # Trust
//
// The cloud authenticates with Options.PrivateKey and only talks to hosts
// whose key is pinned in Options.HostKeys (authorized_keys lines, accepted
// from any of the hosts, or known_hosts lines, from the hosts they name);
// Options.InsecureIgnoreHostKey turns that off and only when set. The
// private key and the join token never appear in an error or a log line,
// and the token never on a command line: scripts run with `sh -c` and get
// the token on their standard input, which writes it to a 0600 file the
// agent reads (--join-token-file).
//
// # On each host, under Options.InstallDir
//
//	bin/maestro-<sha256 prefix>          the maestro binary (uploaded only when its checksum differs)
//	hosts/<host>                         the machine the host is: created exclusively (set -C),
//	                                     so racing Creates make one machine
//	machines/<name>-<8 hex>/machine.json the record: name, cluster, pool, zone, labels, host,
//	                                     idempotency key hash, created time (no secret)
//	machines/<name>-<8 hex>/join-token   0600; ca.crt; data/ (the agent's --data-dir)
//	machines/<name>-<8 hex>/agent.log    the agent's output (Logs reads its tail)
//
// A machine's ID is <name>-<8 hex>@<host>, so Get, Delete and Logs go to
// its host only; List asks every host at once.
//
// # The agent
//
// Where systemd runs (/run/systemd/system exists) and the user is root,
// the agent is the unit maestro-agent-<name>.service (Restart=always,
// output appended to agent.log), enabled and started. Elsewhere it runs
// under run.sh, a supervisor in its own session (setsid) that records its
// pid and start time in agent.pid and restarts the agent 2 s after it
// exits. A machine is running while its unit is active or its supervisor
// lives (the pid checked against its start time in /proc), pending while
// it is recorded but not yet started (for a minute at most), and
// terminated otherwise. Delete disables the unit, or sends SIGTERM to the
// supervisor's process group and SIGKILL after Options.StopGrace, then
// removes the machine's directory, unit file and claim; the binary and
// the directories around it go with the host's last machine.
//
// # Errors
//
// Every error about a host names it as user@host:port with the SSH error:
// "authentication failed" and "host key mismatch" are ErrInvalid (a person
// must change the key or the pin), "unreachable" (no TCP connection or no
// handshake within Options.DialTimeout, default 10 s) is ErrTransient, a
// command that failed on the host is unclassified and carries its
// standard error. The dial timeout bounds connecting only: the commands
// after it are bounded by the caller's context. List reports unreachable hosts as one ErrTransient
// error naming each, and still returns the machines of the hosts it
// reached.
//
// Hosts need a POSIX sh, coreutils (head, sha256sum, sed, cut), setsid and
// /proc; the user needs write access to InstallDir (root for systemd).
package ssh
