package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
)

func newLogsCmd(g *globals) *cobra.Command {
	var opts client.LogOptions
	cmd := &cobra.Command{
		Use:     "logs <pod>",
		Short:   "Print a container's log (from the pod's node agent)",
		Example: "  maestro logs web-7d9f8c6b5-x2x4z -f --tail 20",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.PodLogs(cmd.Context(), g.namespace, args[0], opts, g.out)
		},
	}
	cmd.Flags().StringVarP(&opts.Container, "container", "c", "", "container (needed when the pod has several)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep streaming new lines")
	cmd.Flags().Int64Var(&opts.TailLines, "tail", 0, "only the last N lines")
	cmd.Flags().BoolVar(&opts.Timestamps, "timestamps", false, "prefix lines with their time")
	return cmd
}

func newImageCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images of the local Docker engine"}
	load := &cobra.Command{
		Use:   "load <archive.tar>",
		Short: "Load an image archive (docker save format) onto the local engine, for nodes without a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New(cmd.Context(), docker.Options{})
			if err != nil {
				return err
			}
			f, err := openFile(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			refs, err := rt.LoadArchive(cmd.Context(), f)
			if err != nil {
				return fmt.Errorf("loading %s: %w", args[0], err)
			}
			for _, r := range refs {
				fmt.Fprintf(g.out, "loaded %s\n", r)
			}
			return nil
		},
	}
	cmd.AddCommand(load)
	return cmd
}
