// Package supervise keeps one child process running: it restarts the child
// with a growing delay when it exits, and stops it (SIGTERM, then SIGKILL
// after a grace period) when asked. `maestro supervise` runs it; the
// Terraform provider's maestro_cluster starts `maestro server` under it in
// a session of its own, so the server outlives terraform and comes back
// after a crash without systemd (which a container or a user without root
// may not have).
package supervise
