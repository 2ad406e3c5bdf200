package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/agent/leftovers"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
)

// newNodeCleanupCmd is what a cloud runs on a host after stopping a
// machine's agent for good: the agent leaves its pods' containers and its
// pod network in place when it stops (so that a restarted agent adopts
// them), which an uninstall must not.
func newNodeCleanupCmd() *cobra.Command {
	var cluster, node string
	cmd := &cobra.Command{
		Use:    "node-cleanup --cluster-id ID --node-name NAME",
		Short:  "Remove what a stopped agent left on this host: its node's containers and pod network",
		Hidden: true, // run by the ssh cloud when it deletes a machine
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cluster == "" || node == "" {
				return errors.New("--cluster-id and --node-name: required")
			}
			var errs []error
			if _, err := docker.New(cmd.Context(), docker.Options{}); err == nil {
				errs = append(errs, leftovers.RemoveContainers(cmd.Context(), cluster, []string{node}))
			}
			return errors.Join(append(errs, leftovers.RemoveNetworks(cmd.Context(), cluster, []string{node}))...)
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster-id", "", "the cluster's id (its containers' maestro.cluster label)")
	cmd.Flags().StringVar(&node, "node-name", "", "the node whose containers and pod network go")
	return cmd
}
