// Package remoteserver installs, adopts and removes a maestro control
// plane on existing hosts over SSH (the `ssh` variant of maestro_cluster).
//
// One host runs `maestro server` with its embedded etcd member. Three hosts
// are an HA control plane: Debian's etcd (which must be installed on each)
// as a three-member cluster with TLS among members and clients
// (certificates from an etcd CA made for the cluster), and on each host a
// `maestro server` with --etcd-endpoints of all three members, one shared
// encryption key and one shared cluster CA (so the servers' certificates,
// admin tokens and the agents' credentials are good on every server),
// advertising its own host.
//
// SSH goes through engine/cloud/ssh's Remote: key authentication, pinned
// host keys, errors naming the host as user@host:port with the SSH error,
// the maestro binary uploaded only when its checksum differs. Secrets (the
// CA keys, the encryption key) reach the hosts on the scripts' standard
// input, never on a command line; the private key and the admin token are
// in no log line and no error.
//
// # On each host, under <InstallDir>/<host>
//
// (a directory per host, so hosts sharing a filesystem never clash)
//
//	install.json       the control plane's hosts and API port (no secret)
//	bin/maestro        the uploaded binary
//	data/              maestro server's --data-dir (data/pki: the cluster CA)
//	encryption.key     secrets at rest (HA: the same on every host)
//	admin.conf         the client config the server writes (endpoint, CA, admin token)
//	etcd/, etcd-pki/   HA: the etcd member's data and TLS material
//	server.log, etcd.log
//	<name>.unit        the systemd unit running it, where systemd runs and the user is root
//	<name>.pid         otherwise: `maestro supervise` (in its own session) running it
//
// Create adopts what already runs (a second Create on the same hosts
// starts nothing twice) and refuses hosts that belong to a control plane
// of other hosts. Delete stops every unit and process it started and
// removes the host's directory (and InstallDir when that leaves it empty).
package remoteserver
