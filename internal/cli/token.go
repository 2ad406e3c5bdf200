package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
)

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens (admin only)"}
	var (
		role, node, description string
		ttl                     time.Duration
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it (it is shown only once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.CreateToken(cmd.Context(), api.TokenRequest{Role: role, Node: node,
				TTLSeconds: int64(ttl / time.Second), Description: description})
			if err != nil {
				return err
			}
			fmt.Fprintln(g.out, resp.Token)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "join", "admin, viewer, node or join")
	create.Flags().StringVar(&node, "node", "", "node name (role node)")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 1h (0: never expires; join tokens default to 1h)")
	create.Flags().StringVar(&description, "description", "", "what the token is for")
	create.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if role == "join" && !cmd.Flags().Changed("ttl") {
			ttl = time.Hour
		}
		return nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			tokens, err := c.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tNODE\tEXPIRES\tDESCRIPTION")
			for _, t := range tokens {
				exp := "never"
				if t.Expires != nil {
					exp = t.Expires.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, dash(t.Node), exp, t.Description)
			}
			return tw.Flush()
		},
	}
	del := &cobra.Command{
		Use:   "delete <id>",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.DeleteToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "token %s deleted\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}
