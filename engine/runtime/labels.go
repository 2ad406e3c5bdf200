package runtime

import "strconv"

// Helpers both implementations use, so a sandbox or container carries the
// same labels whichever runtime made it, and a Filter means the same thing.

// SandboxLabels are the labels of a pod's sandbox: the caller's, then the
// contract's (which win, so a caller cannot disguise a sandbox).
func SandboxLabels(cfg SandboxConfig) map[string]string {
	l := make(map[string]string, len(cfg.Labels)+6)
	for k, v := range cfg.Labels {
		l[k] = v
	}
	l[LabelManaged] = "true"
	delete(l, LabelCluster) // only the config's cluster, never a caller's label
	if cfg.Cluster != "" {
		l[LabelCluster] = cfg.Cluster
	}
	l[LabelNode] = cfg.Node
	l[LabelPodUID] = cfg.PodUID
	l[LabelPodName] = cfg.Name
	l[LabelPodNamespace] = cfg.Namespace
	l[LabelRole] = RoleSandbox
	delete(l, LabelHostNetwork)
	if cfg.HostNetwork {
		l[LabelHostNetwork] = "true"
	}
	return l
}

// ContainerLabels are the labels of a container of the sandbox sb.
func ContainerLabels(sb Sandbox, cfg ContainerConfig) map[string]string {
	l := make(map[string]string, len(cfg.Labels)+9)
	for k, v := range cfg.Labels {
		l[k] = v
	}
	l[LabelManaged] = "true"
	delete(l, LabelCluster) // only the sandbox's cluster, never a caller's label
	if id := sb.Labels[LabelCluster]; id != "" {
		l[LabelCluster] = id
	}
	l[LabelNode] = sb.Node
	l[LabelPodUID] = sb.PodUID
	l[LabelPodName] = sb.Name
	l[LabelPodNamespace] = sb.Namespace
	l[LabelRole] = RoleContainer
	l[LabelContainerName] = cfg.Name
	l[LabelAttempt] = strconv.Itoa(cfg.Attempt)
	l[LabelHash] = cfg.Hash
	return l
}

// Selector is every label a matching object must carry, the filter's
// Cluster, Node and PodUID included.
func (f Filter) Selector() map[string]string {
	sel := make(map[string]string, len(f.Labels)+3)
	for k, v := range f.Labels {
		sel[k] = v
	}
	if f.Cluster != "" {
		sel[LabelCluster] = f.Cluster
	}
	if f.Node != "" {
		sel[LabelNode] = f.Node
	}
	if f.PodUID != "" {
		sel[LabelPodUID] = f.PodUID
	}
	return sel
}

// Matches reports whether an object with these labels passes the filter.
func (f Filter) Matches(labels map[string]string) bool {
	for k, v := range f.Selector() {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// AttemptOf reads the attempt label (0 when missing or malformed).
func AttemptOf(labels map[string]string) int {
	n, _ := strconv.Atoi(labels[LabelAttempt])
	return n
}

// ExitReason is the Reason of an exited container: OOMKilled, Completed
// (exit code 0) or Error.
func ExitReason(exitCode int, oomKilled bool) string {
	switch {
	case oomKilled:
		return "OOMKilled"
	case exitCode == 0:
		return "Completed"
	default:
		return "Error"
	}
}
