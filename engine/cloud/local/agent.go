package local

import (
	"maps"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// Spec is what a machine's process is started from.
type Spec struct {
	ID, Name, Cluster, Pool, Zone, MachineType string
	Labels                                     map[string]string
	ServerURL                                  string
	CAFile, TokenFile, DataDir                 string
	// Address is the machine's own address when it is an emulated host
	// (Options.Network); empty otherwise.
	Address string
}

// AgentCommand returns Options.Command for `<binary> agent`: the agent joins
// ServerURL with the token in TokenFile as node Name, with the machine's
// labels plus its pool, zone and machine type as node labels.
func AgentCommand(binary string, extraArgs ...string) func(Spec) []string {
	return func(s Spec) []string {
		args := []string{binary, "agent",
			"--server", s.ServerURL, "--ca-file", s.CAFile,
			"--join-token-file", s.TokenFile,
			"--node-name", s.Name, "--data-dir", s.DataDir,
		}
		ls := maps.Clone(s.Labels)
		if ls == nil {
			ls = map[string]string{}
		}
		ls[api.LabelNodePool] = s.Pool
		if s.Zone != "" {
			ls[api.LabelZone] = s.Zone
		}
		if s.MachineType != "" {
			ls[api.LabelInstanceType] = s.MachineType
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			kv = append(kv, k+"="+ls[k])
		}
		args = append(args, "--labels", strings.Join(kv, ","))
		if s.Address != "" {
			args = append(args, "--address", s.Address)
		}
		return append(args, extraArgs...)
	}
}
