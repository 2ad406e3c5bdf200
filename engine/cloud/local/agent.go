package local

import "github.com/maestro-dev/maestro/engine/cloud"

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
// labels plus its pool, zone and machine type as node labels
// (cloud.AgentArgs).
func AgentCommand(binary string, extraArgs ...string) func(Spec) []string {
	return func(s Spec) []string {
		return cloud.AgentArgs(binary, cloud.Agent{
			Name: s.Name, Pool: s.Pool, Zone: s.Zone, MachineType: s.MachineType, Labels: s.Labels,
			ServerURL: s.ServerURL, CAFile: s.CAFile, TokenFile: s.TokenFile, DataDir: s.DataDir,
			Address: s.Address,
		}, extraArgs...)
	}
}
