package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newSecretsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage how secrets are kept (admin only)"}
	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Encrypt every secret with a new key and drop the old one",
		Long: `Rotate the key secrets are encrypted with at rest.

The server you talk to adds a new key to its key file (--encryption-key-file),
seals new writes with it, re-encrypts every secret (each a compare-and-swap,
so concurrent writes are kept), checks that no secret is sealed with another
key, and then removes the old keys from the file. Secrets stay readable
throughout: the old key opens what it sealed until the end.

Servers sharing an etcd must read the same key file (a shared path): they pick
up the new key within seconds, and the rotation waits for them before
re-encrypting. Back up the new key file afterwards; backups taken before the
rotation need the old key to be restored.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			out, err := c.RotateEncryptionKey(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "new key %s in %s; %d secrets re-encrypted; removed keys: %s\n",
				out.KeyID, out.KeyFile, out.Reencrypted, strings.Join(out.RemovedKeyIDs, ", "))
			return nil
		},
	}
	cmd.AddCommand(rotate)
	return cmd
}
