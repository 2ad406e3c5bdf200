package cloud

import (
	"maps"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// Agent says how a machine's `maestro agent` starts: every provider that
// runs the agent builds its command line with AgentArgs.
type Agent struct {
	Name, Pool, Zone, MachineType string
	Labels                        map[string]string
	ServerURL                     string
	CAFile, TokenFile, DataDir    string
	// Address is the node's address (--address); empty: the agent's
	// default, the host's first non-loopback IPv4.
	Address string
}

// AgentArgs returns `<binary> agent ...`: the agent joins ServerURL with
// the token in TokenFile (never the token itself, which ps would show) as
// node Name, with the machine's labels plus its pool, zone and machine type
// as node labels, then extra.
func AgentArgs(binary string, a Agent, extra ...string) []string {
	args := []string{binary, "agent",
		"--server", a.ServerURL, "--ca-file", a.CAFile,
		"--join-token-file", a.TokenFile,
		"--node-name", a.Name, "--data-dir", a.DataDir,
	}
	ls := maps.Clone(a.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	ls[api.LabelNodePool] = a.Pool
	if a.Zone != "" {
		ls[api.LabelZone] = a.Zone
	}
	if a.MachineType != "" {
		ls[api.LabelInstanceType] = a.MachineType
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		kv = append(kv, k+"="+ls[k])
	}
	args = append(args, "--labels", strings.Join(kv, ","))
	if a.Address != "" {
		args = append(args, "--address", a.Address)
	}
	return append(args, extra...)
}
