package network

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// OwnNamespaces reports whether rt gives pod sandboxes network namespaces
// of their own, for the pod network to plug in: true unless the runtime
// says otherwise (the process runtime without root shares the host's).
func OwnNamespaces(rt runtime.Runtime) bool {
	nn, ok := rt.(runtime.NetworkNamespacer)
	return !ok || nn.OwnNetworkNamespaces()
}

// capNetAdmin is CAP_NET_ADMIN's bit in the capability sets.
const capNetAdmin = 12

// CheckPrivileges returns an error unless this process may set the pod
// network up: bridges, veths, forwarding and firewall rules need
// CAP_NET_ADMIN (root).
func CheckPrivileges() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return fmt.Errorf("the pod network needs Linux with CAP_NET_ADMIN (root): %w", err)
	}
	ok, err := hasNetAdmin(string(status))
	if err != nil {
		return fmt.Errorf("reading this process's capabilities from /proc/self/status: %w", err)
	}
	if !ok {
		return errors.New("the pod network needs root (CAP_NET_ADMIN) to make bridges, veths and firewall rules")
	}
	return nil
}

// hasNetAdmin reads the effective capability set (CapEff) of a
// /proc/<pid>/status text.
func hasNetAdmin(status string) (bool, error) {
	for line := range strings.SplitSeq(status, "\n") {
		v, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false, fmt.Errorf("CapEff %q: %w", strings.TrimSpace(v), err)
		}
		return caps&(1<<capNetAdmin) != 0, nil
	}
	return false, errors.New("no CapEff line")
}
