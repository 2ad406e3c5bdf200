package cli

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/internal/supervise"
)

func newSuperviseCmd() *cobra.Command {
	var (
		grace               time.Duration
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "supervise -- COMMAND [ARGS...]",
		Short: "Run a command and restart it whenever it exits, until stopped (SIGTERM stops the command too)",
		Long: `Run a command and keep it running: when it exits it is started again after
1 s, doubling up to 30 s while it keeps exiting quickly. SIGTERM or SIGINT
stops the command (SIGTERM, then SIGKILL after --stop-grace) and then the
supervisor. The command's output goes where the supervisor's goes.

The Terraform resource maestro_cluster runs ` + "`maestro server`" + ` this way, in a
session of its own, so the server outlives terraform and survives a crash on
hosts without systemd (containers, users without root).`,
		Example: `  maestro supervise -- maestro server --data-dir /var/lib/maestro`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			return supervise.Run(cmd.Context(), supervise.Options{
				Command: args, Stdout: os.Stdout, Stderr: os.Stderr, StopGrace: grace,
				Log: log.With("component", "supervise"),
			})
		},
	}
	cmd.Flags().SetInterspersed(false) // the command's own flags are not ours
	cmd.Flags().DurationVar(&grace, "stop-grace", 30*time.Second, "how long the command has to exit after SIGTERM before it is killed")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}
