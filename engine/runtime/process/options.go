package process

import "log/slog"

// Options configure a Runtime.
type Options struct {
	// Root is the state directory (created if missing).
	Root string
	// NodeIP is the IP of every sandbox: pods share the host's network.
	NodeIP string
	// CgroupParent is the cgroup, relative to the hierarchy's root, that
	// holds the containers' cgroups. Default "maestro".
	CgroupParent string
	Log          *slog.Logger
}
