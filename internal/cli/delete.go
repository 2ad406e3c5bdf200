package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newDeleteCmd(g *globals) *cobra.Command {
	var (
		cascade     string
		gracePeriod int64
		dryRun      bool
	)
	cmd := &cobra.Command{
		Use:   "delete <kind> <name>...",
		Short: "Delete objects",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := api.LookupKind(args[0])
			if err != nil {
				return err
			}
			opts := client.DeleteOptions{DryRun: dryRun}
			switch cascade {
			case "background":
			case "foreground":
				opts.PropagationPolicy = "Foreground"
			case "orphan":
				opts.PropagationPolicy = "Orphan"
			default:
				return fmt.Errorf("--cascade %q: must be background, foreground or orphan", cascade)
			}
			if gracePeriod >= 0 {
				opts.GracePeriodSeconds = &gracePeriod
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ns := ""
			if kind.Namespaced {
				ns = g.namespace
			}
			res := client.Dynamic(c, kind, ns)
			failed := false
			for _, name := range args[1:] {
				var note string
				if kind.Kind == "Volume" {
					if v, err := c.Volumes(ns).Get(cmd.Context(), name); err == nil {
						note = volumeDeleteNote(v)
					}
				}
				if err := res.Delete(cmd.Context(), name, opts); err != nil {
					fmt.Fprintf(g.errOut, "Error: %s\n", formatError(err))
					failed = true
					continue
				}
				if note != "" {
					note = ": " + note
				}
				fmt.Fprintf(g.out, "%s/%s deleted%s\n", strings.ToLower(kind.Kind), name, note)
			}
			if failed {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cascade, "cascade", "background", "background, foreground (wait for dependents) or orphan")
	cmd.Flags().Int64Var(&gracePeriod, "grace-period", -1, "seconds a pod gets to stop (-1: its own setting; 0: at once)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the delete on the server without doing it")
	return cmd
}
