package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/version"
)

// upState is what a running `maestro up` leaves for `maestro down`.
type upState struct {
	PID     int      `json:"pid"`
	Runtime string   `json:"runtime"`
	Nodes   []string `json:"nodes"`
	Config  string   `json:"config"`
}

func newUpCmd(g *globals) *cobra.Command {
	var (
		cfg                 localcluster.Config
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a local multi-node cluster in this process: server, scheduler, controllers and N agents",
		Long: `Run a whole cluster on this machine: a control plane with embedded etcd and
N node agents (zones zone-a, zone-b, zone-c in turn), each with its own name
and loopback address (127.0.1.N). It writes the client config, prints the
nodes, and runs until Ctrl-C or ` + "`maestro down`" + `, which stop every pod and
remove its containers.`,
		Example: `  maestro up --nodes 3
  maestro up --nodes 2 --runtime process`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			if cfg.ClientConfigPath == "" {
				cfg.ClientConfigPath = g.configPath
			}
			if cfg.ClientConfigPath == "" {
				cfg.ClientConfigPath = client.DefaultConfigPath()
			}
			statePath := filepath.Join(cfg.DataDir, "up.json")
			if st, err := readUpState(statePath); err == nil && processAlive(st.PID) {
				return fmt.Errorf("a local cluster is already running (pid %d); `maestro down` stops it", st.PID)
			}
			cfg.Log, cfg.Version = log, version.Version
			start := time.Now()
			ctx := cmd.Context()
			c, err := localcluster.Start(ctx, cfg)
			if err != nil {
				return err
			}
			st := upState{PID: os.Getpid(), Runtime: cfg.Runtime, Config: cfg.ClientConfigPath}
			for _, n := range c.Nodes {
				st.Nodes = append(st.Nodes, n.Name)
			}
			if err := writeUpState(statePath, st); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "maestro is up: %d nodes ready in %s, API at %s\n\n", len(c.Nodes),
				time.Since(start).Round(10*time.Millisecond), c.CP.ClientConfig().Server)
			nodes, _, err := c.Client.Nodes().List(ctx, client.ListOptions{})
			if err == nil {
				objs := make([]api.Object, len(nodes))
				for i, n := range nodes {
					objs[i] = n
				}
				_ = printTable(g.out, api.MustKind("Node"), objs, false)
			}
			fmt.Fprintf(g.out, "\nClient config: %s\nStop with Ctrl-C or `maestro down`.\n", cfg.ClientConfigPath)
			<-ctx.Done()
			fmt.Fprintln(g.out, "stopping: removing every pod's containers")
			stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err = c.Stop(stopCtx)
			_ = os.Remove(statePath)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&cfg.Runtime, "runtime", localcluster.RuntimeDocker, "docker or process")
	f.StringVar(&cfg.DataDir, "data-dir", filepath.Join(defaultHome(), "up"), "state of the local cluster")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:6443", "API address (port 0 picks one)")
	f.StringVar(&cfg.ClientConfigPath, "client-config", "", "where to write the client config (default $MAESTRO_CONFIG or ~/.maestro/config)")
	f.StringVar(&cfg.BinDir, "bin-dir", "", "directory with maestro-pause and maestro-demo (default: next to maestro)")
	addPodNetworkFlags(cmd, &cfg.PodCIDR, &cfg.NodeCIDRMaskSize, &cfg.PodNetworkMode)
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

func newDownCmd(g *globals) *cobra.Command {
	var dataDir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the local cluster `maestro up` runs, removing its containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			statePath := filepath.Join(dataDir, "up.json")
			st, err := readUpState(statePath)
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintln(g.out, "no local cluster is running")
				return nil
			}
			if err != nil {
				return err
			}
			if processAlive(st.PID) {
				if err := terminate(st.PID); err != nil {
					return fmt.Errorf("stopping maestro up (pid %d): %w", st.PID, err)
				}
				deadline := time.Now().Add(timeout)
				for processAlive(st.PID) && time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
				}
				if !processAlive(st.PID) {
					fmt.Fprintln(g.out, "local cluster stopped")
					return nil
				}
				fmt.Fprintf(g.errOut, "maestro up (pid %d) did not stop within %s; removing its containers\n", st.PID, timeout)
			}
			// The cluster died without cleaning up: remove what it left.
			if st.Runtime == "" || st.Runtime == localcluster.RuntimeDocker {
				if err := removeNodeContainers(cmd.Context(), st.Nodes); err != nil {
					return err
				}
			}
			_ = os.Remove(statePath)
			fmt.Fprintln(g.out, "local cluster stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", filepath.Join(defaultHome(), "up"), "state of the local cluster")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for a clean stop")
	return cmd
}

func removeNodeContainers(ctx context.Context, nodes []string) error {
	rt, err := docker.New(ctx, docker.Options{})
	if err != nil {
		return err
	}
	for _, n := range nodes {
		cs, err := rt.ListContainers(ctx, runtime.Filter{Node: n})
		if err != nil {
			return err
		}
		for _, c := range cs {
			_ = rt.RemoveContainer(ctx, c.ID)
		}
		sbs, err := rt.ListSandboxes(ctx, runtime.Filter{Node: n})
		if err != nil {
			return err
		}
		for _, sb := range sbs {
			_ = rt.RemoveSandbox(ctx, sb.ID)
		}
	}
	return nil
}

func readUpState(path string) (upState, error) {
	var st upState
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

func writeUpState(path string, st upState) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func containsState(stat []byte, state byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && stat[i+2] == state
		}
	}
	return false
}
