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

	"github.com/maestro-dev/maestro/engine/agent/leftovers"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/version"
)

// upState is what a running `maestro up` leaves for `maestro down`.
type upState struct {
	PID     int    `json:"pid"`
	Name    string `json:"name,omitempty"`
	Runtime string `json:"runtime"`
	// Cluster is the cluster's id: the label of its containers.
	Cluster string   `json:"cluster,omitempty"`
	Nodes   []string `json:"nodes"`
	Config  string   `json:"config"`
}

func newUpCmd(g *globals) *cobra.Command {
	var (
		cfg                 localcluster.Config
		name                string
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a local multi-node cluster in this process: server, scheduler, controllers and N agents",
		Long: `Run a whole cluster on this machine: a control plane with embedded etcd and
N node agents (zones zone-a, zone-b, zone-c in turn), each with its own name
and loopback address. It writes the client config, prints the nodes, and
runs until Ctrl-C or ` + "`maestro down`" + `, which stop every pod and remove its
containers.

Several clusters run side by side under different --name values: each has
its own data directory (~/.maestro/up-<name>), API port, service range (and
so cluster DNS address), pod range, node names and addresses, chosen on its first
start so that they differ from the other clusters' and recorded in
<data-dir>/cluster.json. The default cluster, "maestro", keeps
~/.maestro/up, port 6443, 10.96.0.0/16 and nodes node-N at 127.0.1.N. Its
client config goes to $MAESTRO_CONFIG or ~/.maestro/config; another
cluster's to ~/.maestro/config-<name> (or --client-config, --config).`,
		Example: `  maestro up --nodes 3
  maestro up --name staging --nodes 2      # beside the default cluster
  MAESTRO_CONFIG=~/.maestro/config-staging maestro get nodes
  maestro down --name staging
  maestro up --nodes 2 --runtime process`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			if err := localcluster.ValidateName(name); err != nil {
				return err
			}
			if cfg.DataDir == "" {
				cfg.DataDir = localcluster.DataDir(defaultHome(), name)
			}
			statePath := filepath.Join(cfg.DataDir, "up.json")
			if st, err := readUpState(statePath); err == nil && processAlive(st.PID) {
				return fmt.Errorf("the local cluster %q is already running (pid %d); `maestro down --name %s` stops it", name, st.PID, name)
			}
			id, err := localcluster.ResolveIdentity(defaultHome(), cfg.DataDir, name)
			if err != nil {
				return err
			}
			podCIDR := cfg.PodCIDR
			id.Apply(&cfg) // each local cluster its own ranges: they share this host
			if cmd.Flags().Changed("pod-cidr") {
				cfg.PodCIDR = podCIDR
			}
			cfg.ClientConfigPath = upClientConfig(g, cfg.ClientConfigPath, name)
			cfg.Log, cfg.Version = log, version.Version
			return runUp(cmd.Context(), g, cfg, id, statePath)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", localcluster.DefaultName, "cluster name: clusters of different names run side by side")
	f.IntVar(&cfg.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&cfg.Runtime, "runtime", localcluster.RuntimeDocker, "docker or process")
	f.StringVar(&cfg.DataDir, "data-dir", "", "state of the local cluster (default ~/.maestro/up, or ~/.maestro/up-<name>)")
	f.StringVar(&cfg.Listen, "listen", "", "API address (default 127.0.0.1:6443, another cluster's recorded one; port 0 picks one)")
	f.StringVar(&cfg.ClientConfigPath, "client-config", "", "where to write the client config (default $MAESTRO_CONFIG or ~/.maestro/config; ~/.maestro/config-<name> for another --name)")
	f.StringVar(&cfg.BinDir, "bin-dir", "", "directory with maestro-pause and maestro-demo (default: next to maestro)")
	addPodNetworkFlags(cmd, &cfg.PodCIDR, &cfg.NodeCIDRMaskSize, &cfg.PodNetworkMode)
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

// upClientConfig is where `maestro up` writes the client config: the
// flag's path, else --config, else the default cluster's usual place, or
// config-<name> for another cluster (never the default cluster's file).
func upClientConfig(g *globals, flag, name string) string {
	switch {
	case flag != "":
		return flag
	case g.configPath != "":
		return g.configPath
	case name == localcluster.DefaultName:
		return client.DefaultConfigPath()
	}
	return localcluster.ClientConfigPath(defaultHome(), name)
}

// runUp starts the cluster, records it for `maestro down`, and runs it
// until ctx ends.
func runUp(ctx context.Context, g *globals, cfg localcluster.Config, id localcluster.Identity, statePath string) error {
	start := time.Now()
	name := id.Name
	var agentArgs []string
	if cfg.Runtime == localcluster.RuntimeProcess {
		agentArgs = append(agentArgs, "--runtime=process")
	}
	if cfg.BinDir != "" {
		agentArgs = append(agentArgs, "--pause-binary="+filepath.Join(cfg.BinDir, localcluster.PauseBinary))
	}
	if err := localcluster.ImportDemoImage(ctx, cfg); err != nil {
		cfg.Log.Info("the demo image is not available", "err", err)
	}
	n := local.Network{Bridge: localcluster.MachineBridge(name), Prefix: localcluster.MachineNetwork(id.Slot)}
	c, err := localcluster.StartPool(ctx, cfg, localcluster.PoolOptions{Network: n, AgentArgs: agentArgs})
	if err != nil {
		return err
	}
	st := upState{PID: os.Getpid(), Name: name, Runtime: cfg.Runtime, Cluster: c.CP.ClusterInfo().ClusterID, Config: cfg.ClientConfigPath}
	nodes, _, err := c.Client.Nodes().List(ctx, client.ListOptions{})
	for _, n := range nodes {
		st.Nodes = append(st.Nodes, n.Name)
	}
	if err := writeUpState(statePath, st); err != nil {
		return err
	}
	fmt.Fprintf(g.out, "maestro is up: cluster %q (id %s), %d nodes of node pool %q ready in %s, API at %s\n\n", name, st.Cluster,
		len(nodes), localcluster.PoolName, time.Since(start).Round(10*time.Millisecond), c.CP.ClientConfig().Server)
	if err == nil {
		objs := make([]api.Object, len(nodes))
		for i, n := range nodes {
			objs[i] = n
		}
		_ = printTable(g.out, api.MustKind("Node"), objs, false)
	}
	fmt.Fprintf(g.out, "\nClient config: %s\n", cfg.ClientConfigPath)
	if name != localcluster.DefaultName {
		fmt.Fprintf(g.out, "  export MAESTRO_CONFIG=%s\n", cfg.ClientConfigPath)
	}
	fmt.Fprintf(g.out, "Resize with `maestro scale nodepool %s --replicas N`. Stop with Ctrl-C or `%s`.\n", localcluster.PoolName, downCommand(name))
	<-ctx.Done()
	fmt.Fprintln(g.out, "stopping: draining and removing the pool's machines")
	stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = c.Stop(stopCtx)
	if cfg.Runtime != localcluster.RuntimeProcess {
		// Pods of machines whose drain was cut short: the whole cluster's.
		err = errors.Join(err, leftovers.RemoveContainers(stopCtx, st.Cluster, []string{""}))
	}
	if err != nil {
		return fmt.Errorf("%w (`%s` removes what is left)", err, downCommand(name))
	}
	_ = os.Remove(statePath)
	return nil
}

func downCommand(name string) string {
	if name == localcluster.DefaultName {
		return "maestro down"
	}
	return "maestro down --name " + name
}

func newDownCmd(g *globals) *cobra.Command {
	var dataDir, name string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop a local cluster `maestro up` runs, removing its containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := localcluster.ValidateName(name); err != nil {
				return err
			}
			if dataDir == "" {
				dataDir = localcluster.DataDir(defaultHome(), name)
			}
			statePath := filepath.Join(dataDir, "up.json")
			st, err := readUpState(statePath)
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(g.out, "no local cluster is running in %s\n", dataDir)
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
			if err := removeLocalMachines(cmd.Context(), dataDir, st.Cluster); err != nil {
				return err
			}
			if st.Runtime == "" || st.Runtime == localcluster.RuntimeDocker {
				if err := leftovers.RemoveContainers(cmd.Context(), st.Cluster, st.Nodes); err != nil {
					return err
				}
			}
			if err := leftovers.RemoveNetworks(cmd.Context(), st.Cluster, st.Nodes); err != nil {
				return err
			}
			_ = os.Remove(statePath)
			fmt.Fprintln(g.out, "local cluster stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", localcluster.DefaultName, "name of the cluster (maestro up --name)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "state of the local cluster (default: the --name cluster's)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for a clean stop")
	return cmd
}

// removeLocalMachines deletes the machines a dead `maestro up` left (their
// processes, namespaces and addresses) and their bridge.
func removeLocalMachines(ctx context.Context, dataDir, cluster string) error {
	id, err := localcluster.LoadIdentity(dataDir)
	if err != nil || cluster == "" {
		return nil // recorded before node pools: no machines
	}
	n := local.Network{Bridge: localcluster.MachineBridge(id.Name), Prefix: localcluster.MachineNetwork(id.Slot)}
	return localcluster.RemoveMachines(ctx, dataDir, n, cluster)
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
