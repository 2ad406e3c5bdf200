package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/store"
)

func newBackupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back the cluster up (a consistent etcd snapshot) and check backup files",
		Long: `Back the cluster up and check backup files.

A backup is a consistent snapshot of the cluster's etcd, taken by the API
server (so it works remotely, with an embedded or an external etcd). Secrets
stay encrypted in it; neither the encryption key file nor the CA is in it:
keep them safe separately, a restore needs them (maestro server --restore).`,
	}
	create := &cobra.Command{
		Use:   "create FILE",
		Short: "Write a backup of the cluster to FILE (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			start := time.Now()
			info, err := store.SaveBackup(args[0], func(w io.Writer) error { return c.Backup(cmd.Context(), w) })
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "backup %s written: revision %d, %s of etcd data, sha256 %s (%s)\n", args[0],
				info.Header.Revision, humanBytes(info.SnapshotSize), info.SHA256, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	inspect := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Check a backup file (layout and checksums) and print what it holds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := store.VerifyBackup(args[0])
			if err != nil {
				return err
			}
			h := info.Header
			fmt.Fprintf(g.out, "file:            %s\nformat:          %d\ntaken:           %s\netcd prefix:     %s\nrevision:        %d\netcd data:       %s\nsha256:          %s\n",
				args[0], h.Format, h.Created.Format(time.RFC3339), h.EtcdPrefix, h.Revision, humanBytes(info.SnapshotSize), info.SHA256)
			if h.StorageVersion != "" {
				fmt.Fprintf(g.out, "storage version: %s\n", h.StorageVersion)
			}
			return nil
		},
	}
	extract := &cobra.Command{
		Use:   "extract FILE DB",
		Short: "Write the etcd snapshot inside a backup to DB, for `etcdutl snapshot restore` into an external etcd",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := store.ExtractSnapshot(args[0], args[1])
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(args[1])
			fmt.Fprintf(g.out, "etcd snapshot of revision %d written to %s (%s); restore it with:\n  etcdutl snapshot restore %s --data-dir <new etcd data dir> --bump-revision %d --mark-compacted\n",
				info.Header.Revision, args[1], humanBytes(info.SnapshotSize), abs, store.RestoreRevisionBump)
			return nil
		},
	}
	cmd.AddCommand(create, inspect, extract)
	return cmd
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
