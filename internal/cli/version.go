package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/internal/version"
)

func newVersionCmd(g *globals) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client version, and the server's when one is reachable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.out, "Client: %s\n", version.Version)
			if clientOnly {
				return nil
			}
			c, err := g.client()
			if err != nil {
				fmt.Fprintf(g.out, "Server: unknown (%v)\n", err)
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			v, err := c.Version(ctx)
			if err != nil {
				fmt.Fprintf(g.out, "Server: unreachable (%v)\n", err)
				return nil
			}
			fmt.Fprintf(g.out, "Server: %s\n", v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only the client version")
	return cmd
}
