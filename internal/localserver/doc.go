// Package localserver runs a maestro control plane on this machine as the
// Terraform resource maestro_cluster (local) needs it: `maestro server`
// under `maestro supervise`, in a session of its own so that it outlives
// the terraform run that started it and is restarted if it dies. Every
// server has its own data directory, which holds the server's state, its
// client config (endpoint, CA, admin token), its log, and the record of the
// supervisor (pid, listen address, binary) that Check, Stop and import read.
package localserver
