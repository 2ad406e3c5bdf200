package process

import "log/slog"

// Options configure a Runtime.
type Options struct {
	// Root is the state directory (created if missing).
	Root string
	// NodeIP is the IP of sandboxes on the host's network (all of them
	// when not root, or with HostNetworkOnly).
	NodeIP string
	// HostNetworkOnly keeps every pod on the host's network even as root
	// (by default, root gives each pod a network namespace of its own).
	HostNetworkOnly bool
	// CgroupParent is the cgroup, relative to the hierarchy's root, that
	// holds the containers' cgroups. Default "maestro".
	CgroupParent string
	Log          *slog.Logger
}
