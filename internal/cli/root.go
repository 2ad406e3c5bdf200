// Package cli implements the maestro command line: running servers, and
// reading and writing objects through the API.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/client"
)

// globals are flags every command shares.
type globals struct {
	configPath string
	namespace  string
	out        io.Writer
	errOut     io.Writer
}

// NewRoot builds the maestro command tree.
func NewRoot() *cobra.Command {
	g := &globals{out: os.Stdout, errOut: os.Stderr}
	root := &cobra.Command{
		Use:           "maestro",
		Short:         "maestro runs containers on a cluster of machines, driven as infrastructure as code",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			g.out, g.errOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
		},
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "client config file (default $"+client.ConfigEnv+" or ~/.maestro/config)")
	root.PersistentFlags().StringVarP(&g.namespace, "namespace", "n", "default", "namespace of namespaced objects")
	root.AddCommand(
		newServerCmd(g),
		newVersionCmd(g),
		newGetCmd(g),
		newEventsCmd(g),
		newDescribeCmd(g),
		newCreateCmd(g),
		newDeleteCmd(g),
		newTokenCmd(g),
		newSimNodesCmd(g),
		newScaleCmd(g),
		newRolloutCmd(g),
		newAgentCmd(g),
		newUpCmd(g),
		newDownCmd(g),
		newLogsCmd(g),
		newTopCmd(g),
		newImageCmd(g),
		newBackupCmd(g),
		newSecretsCmd(g),
		newSuperviseCmd(),
		newNodeCleanupCmd(),
		newPlanCmd(g),
		newApplyCmd(g),
	)
	return root
}

// Execute runs the CLI and returns the process exit code.
func Execute(ctx context.Context, args []string) int {
	root := NewRoot()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		fmt.Fprintln(os.Stderr, "Error:", formatError(err))
		return 1
	}
	return 0
}

// exitCode ends a command with a code and no message (plan's "changes" = 2).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// client builds an API client from the config file.
func (g *globals) client() (*client.Client, error) {
	path := g.configPath
	if path == "" {
		path = client.DefaultConfigPath()
	}
	return client.FromConfigFile(path, client.WithUserAgent("maestro-cli"))
}

// newLogger builds the structured logger of long-running commands.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: must be debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: must be text or json", format)
}
