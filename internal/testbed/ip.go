//go:build linux

package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// ipTimeout bounds one iproute2 call; they take milliseconds.
const ipTimeout = 30 * time.Second

// ipPath is where iproute2's ip is looked for when it is not on $PATH
// (Debian puts it in /usr/sbin, which a test's $PATH may lack).
var ipPath = func() string {
	if p, err := exec.LookPath("ip"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}()

// ip runs iproute2's ip with args and returns its standard output; the
// error carries the command line and whatever it printed.
func ip(ctx context.Context, args ...string) ([]byte, error) {
	if ipPath == "" {
		return nil, fmt.Errorf("testbed: iproute2's ip not found (apt-get install iproute2)")
	}
	ctx, cancel := context.WithTimeout(ctx, ipTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ipPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// ipAll runs several ip commands in order, stopping at the first error.
func ipAll(ctx context.Context, cmds ...[]string) error {
	for _, args := range cmds {
		if _, err := ip(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// route is the part of `ip -j route` output the test bed reads.
type route struct {
	Dst string `json:"dst"`
	Dev string `json:"dev"`
	// Gateway is the next hop, "" for a connected route.
	Gateway string `json:"gateway"`
	Type    string `json:"type"`
	Table   string `json:"table"`
}

// prefix is the route's destination as a prefix ("default" is 0.0.0.0/0,
// a bare address a /32).
func (r route) prefix() (netip.Prefix, error) {
	if r.Dst == "default" {
		return netip.MustParsePrefix("0.0.0.0/0"), nil
	}
	if strings.Contains(r.Dst, "/") {
		return netip.ParsePrefix(r.Dst)
	}
	a, err := netip.ParseAddr(r.Dst)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// routes lists the IPv4 routes of every table of a namespace ("" is the
// namespace of the test process).
func routes(ctx context.Context, netns string) ([]route, error) {
	args := []string{"-j", "-4", "route", "show", "table", "all"}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	out, err := ip(ctx, args...)
	if err != nil {
		return nil, err
	}
	var rs []route
	if err := json.Unmarshal(out, &rs); err != nil {
		return nil, fmt.Errorf("parsing ip route output: %w", err)
	}
	return rs, nil
}

// link is the part of `ip -j link` output the test bed reads.
type link struct {
	Name string `json:"ifname"`
}

// links lists the interfaces of a namespace ("" is the test process's).
func links(ctx context.Context, netns string) ([]link, error) {
	args := []string{"-j", "link", "show"}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	out, err := ip(ctx, args...)
	if err != nil {
		return nil, err
	}
	var ls []link
	if err := json.Unmarshal(out, &ls); err != nil {
		return nil, fmt.Errorf("parsing ip link output: %w", err)
	}
	return ls, nil
}

// namespaces lists the named network namespaces (/run/netns).
func namespaces(ctx context.Context) ([]string, error) {
	out, err := ip(ctx, "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		// "name" or "name (id: 3)"
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}
