package mesh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// CheckPort checks a WireGuard UDP port.
func CheckPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("%d: want a UDP port, 1-65535", port)
	}
	return nil
}

// CheckInterface checks a WireGuard interface name the way the kernel
// does (dev_valid_name): 1-15 bytes, not "." or "..", no '/', ':' or
// white space.
func CheckInterface(name string) error {
	switch {
	case name == "":
		return errors.New("empty: want an interface name")
	case len(name) > 15:
		return fmt.Errorf("%q: at most 15 characters (a Linux interface name)", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q: not a Linux interface name", name)
	case strings.ContainsAny(name, "/:") || strings.ContainsFunc(name, unicode.IsSpace):
		return fmt.Errorf("%q: a Linux interface name has no '/', ':' or spaces", name)
	}
	return nil
}

// CheckImplementation checks a WireGuard implementation (ImplAuto,
// ImplKernel or ImplUserspace).
func CheckImplementation(impl string) error {
	if !slices.Contains([]string{ImplAuto, ImplKernel, ImplUserspace}, impl) {
		return fmt.Errorf("%q: want %s, %s or %s", impl, ImplAuto, ImplKernel, ImplUserspace)
	}
	return nil
}
