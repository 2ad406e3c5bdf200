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
		uses                    int
		addresses, labels       []string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print it (it is shown only once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var admission map[string]string
			if len(labels) > 0 {
				var err error
				if admission, err = parseLabels(labels); err != nil {
					return err
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.CreateToken(cmd.Context(), api.TokenRequest{Role: role, Node: node,
				TTLSeconds: int64(ttl / time.Second), Description: description, Uses: uses, Addresses: addresses, Labels: admission})
			if err != nil {
				return err
			}
			fmt.Fprintln(g.out, resp.Token)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "join", "admin, viewer, node or join")
	create.Flags().StringVar(&node, "node", "", "node name (role node); for a join token, the only name it admits")
	create.Flags().IntVar(&uses, "uses", 0, "join tokens: how many nodes may join with it (default 1)")
	create.Flags().StringSliceVar(&addresses, "address", nil,
		"join tokens: the IP addresses the node is admitted with (default: the address its join comes from); repeatable")
	create.Flags().StringSliceVar(&labels, "labels", nil, "join tokens: labels the node gets and cannot change, key=value (zone, pool, instance type)")
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
			fmt.Fprintln(tw, "ID\tROLE\tNODE\tUSES LEFT\tEXPIRES\tDESCRIPTION")
			for _, t := range tokens {
				exp := "never"
				if t.Expires != nil {
					exp = t.Expires.Format(time.RFC3339)
				}
				left := "-"
				if t.Role == "join" {
					left = fmt.Sprint(t.UsesLeft)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, dash(t.Node), left, exp, t.Description)
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
