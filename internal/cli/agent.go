package cli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/network/mesh"
	"github.com/maestro-dev/maestro/engine/proxy"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
	"github.com/maestro-dev/maestro/engine/runtime/process"
	"github.com/maestro-dev/maestro/internal/version"
)

func newAgentCmd(g *globals) *cobra.Command {
	var (
		server, joinToken, joinTokenFile, caFile, nodeName, address, runtimeName, dataDir string
		labels                                                                            []string
		port                                                                              int
		infraImage, pauseBinary                                                           string
		heartbeat, backoffBase, metricsInterval                                           time.Duration
		logLevel, logFormat                                                               string
		runProxy                                                                          bool
		proxyInterface                                                                    string
		wgPort                                                                            int
		wgInterface, wgImpl                                                               string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent: register this machine as a node and run the pods bound to it",
		Long: `Run a node agent. The first start joins the cluster with a join token
(maestro token create --role join) and keeps the node's own credential in
--data-dir; later starts need no token. Stopping the agent leaves its
containers running; the next start adopts them.`,
		Example: `  maestro agent --server https://10.0.0.1:6443 --ca-file ca.crt --join-token abc123.xyz \
    --node-name worker-1 --labels topology.maestro.dev/zone=zone-a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if nodeName == "" {
				if nodeName, err = os.Hostname(); err != nil {
					return fmt.Errorf("--node-name: required (no hostname: %v)", err)
				}
				nodeName = strings.ToLower(nodeName)
			}
			if msg := api.IsDNS1123Subdomain(nodeName); msg != "" {
				return fmt.Errorf("--node-name %q: %s", nodeName, msg)
			}
			if address == "" {
				if address, err = defaultAddress(); err != nil {
					return err
				}
			}
			if dataDir == "" {
				dataDir = filepath.Join(defaultHome(), "agent-"+nodeName)
			}
			// Before joining: a bad flag leaves no node behind.
			if err := checkWireGuardFlags(wgPort, wgInterface, wgImpl); err != nil {
				return err
			}
			nodeLabels, err := parseLabels(labels)
			if err != nil {
				return err
			}
			if joinToken, err = readJoinToken(joinToken, joinTokenFile); err != nil {
				return err
			}
			var caPEM []byte
			if caFile != "" {
				if caPEM, err = os.ReadFile(caFile); err != nil {
					return fmt.Errorf("--ca-file: %w", err)
				}
			}
			creds, err := agent.Bootstrap(ctx, agent.BootstrapConfig{Server: server, JoinToken: joinToken, CAPEM: caPEM,
				NodeName: nodeName, Address: address, DataDir: dataDir, Log: log})
			if err != nil {
				return err
			}
			cl, err := creds.Client(client.WithUserAgent("maestro-agent/" + nodeName))
			if err != nil {
				return err
			}
			cert, pool, err := creds.TLS()
			if err != nil {
				return err
			}
			var rt runtime.Runtime
			switch runtimeName {
			case "docker":
				if pauseBinary == "" {
					if exe, err := os.Executable(); err == nil {
						pauseBinary = filepath.Join(filepath.Dir(exe), "maestro-pause")
					}
				}
				rt, err = docker.New(ctx, docker.Options{InfraImage: infraImage, InfraBinary: pauseBinary, NodeIP: address, Log: log})
			case "process":
				rt, err = process.New(process.Options{Root: filepath.Join(dataDir, "process"), NodeIP: address, Log: log})
			default:
				return fmt.Errorf("--runtime %q: must be docker or process", runtimeName)
			}
			if err != nil {
				return err
			}
			acfg := agent.Config{NodeName: nodeName, Client: cl, Runtime: rt, Address: address, Labels: nodeLabels,
				DataDir: dataDir, ServerPort: port, ServingCert: cert, ClusterCA: pool, Credentials: creds, HeartbeatInterval: heartbeat, MetricsInterval: metricsInterval,
				RestartBackoffBase: backoffBase, Version: version.Version, Log: log,
				Mesh: agent.MeshConfig{Port: wgPort, Interface: wgInterface, Implementation: wgImpl}}
			if runProxy {
				nodeIP, err := netip.ParseAddr(address)
				if err != nil {
					return fmt.Errorf("--address %q: %w", address, err)
				}
				host, err := proxy.StartHost(ctx, proxy.HostConfig{Client: cl, Interface: proxyInterface,
					NodeAddresses: func() []netip.Addr { return []netip.Addr{nodeIP} }, Log: log})
				if err != nil {
					return fmt.Errorf("starting the service proxy and DNS (--proxy=false runs without): %w", err)
				}
				defer host.Close()
				acfg.DNS, acfg.ServiceEnv = host.PodDNS(), host.ServiceEnv
			}
			a, err := agent.New(acfg)
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "API server URL (default: from the saved node credentials)")
	f.StringVar(&joinToken, "join-token", "", "join token for the first start (visible to other users in the process list: prefer --join-token-file)")
	f.StringVar(&joinTokenFile, "join-token-file", "", "file holding the join token for the first start (what machines a node pool makes use)")
	f.StringVar(&caFile, "ca-file", "", "cluster CA certificate (PEM) to verify the API server on the first start")
	f.StringVar(&nodeName, "node-name", "", "node name (default: the host name)")
	f.StringVar(&address, "address", "", "node address: where host ports are published and logs are served (default: the first non-loopback IPv4)")
	f.StringVar(&runtimeName, "runtime", "docker", "docker or process")
	f.StringSliceVar(&labels, "labels", nil, "node labels, key=value (zone, pool, instance type...)")
	f.StringVar(&dataDir, "data-dir", "", "agent state: credentials and pod volumes (default ~/.maestro/agent-<node>)")
	f.IntVar(&port, "port", agent.DefaultServerPort, "port for logs and stats (on --address)")
	f.StringVar(&infraImage, "infra-image", docker.DefaultInfraImage, "pod infra (pause) image")
	f.StringVar(&pauseBinary, "pause-binary", "", "static pause program to build the infra image from when it is missing (default: maestro-pause next to maestro)")
	f.DurationVar(&heartbeat, "heartbeat-interval", agent.DefaultHeartbeatInterval, "how often the node renews its Ready condition")
	f.DurationVar(&metricsInterval, "metrics-interval", agent.DefaultMetricsInterval, "how often cpu and memory usage is sampled and reported to the API server (give the server the same --metrics-interval)")
	f.DurationVar(&backoffBase, "restart-backoff", agent.DefaultRestartBackoffBase, "first delay of the crash-loop back-off (doubles up to 5 minutes)")
	f.BoolVar(&runProxy, "proxy", true, "run this host's service proxy and cluster DNS (one per host)")
	f.StringVar(&proxyInterface, "proxy-interface", "", "interface that carries cluster IPs (default lo)")
	f.IntVar(&wgPort, "wireguard-port", mesh.DefaultPort, "UDP port of this node's WireGuard endpoint (pod traffic to nodes on other subnets)")
	f.StringVar(&wgInterface, "wireguard-interface", "", `name of the WireGuard interface (default "mwg-" and 8 hex digits of the cluster id)`)
	f.StringVar(&wgImpl, "wireguard-implementation", mesh.ImplAuto, "auto (the kernel's when its module loads, else userspace), kernel or userspace (wireguard-go over /dev/net/tun)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

// checkWireGuardFlags checks the mesh's flags (mesh.New checks them too,
// but only after the node joined); errors name the flag.
func checkWireGuardFlags(port int, iface, impl string) error {
	if err := mesh.CheckPort(port); err != nil {
		return fmt.Errorf("--wireguard-port %w", err)
	}
	if iface != "" { // empty: named after the cluster id
		if err := mesh.CheckInterface(iface); err != nil {
			return fmt.Errorf("--wireguard-interface %w", err)
		}
	}
	if err := mesh.CheckImplementation(impl); err != nil {
		return fmt.Errorf("--wireguard-implementation %w", err)
	}
	return nil
}

func parseLabels(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--labels %q: must be key=value", kv)
		}
		out[k] = v
	}
	if errs := api.ValidateLabels(out, api.NewPath("labels")); len(errs) > 0 {
		return nil, fmt.Errorf("--labels: %v", errs)
	}
	return out, nil
}

// defaultAddress is the first non-loopback IPv4 address of this machine.
func defaultAddress() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("--address: required (no non-loopback IPv4 address found)")
}

func defaultHome() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".maestro"
	}
	return filepath.Join(home, ".maestro")
}

// readJoinToken is the join token from --join-token or --join-token-file
// (its content, surrounding space trimmed); errors name the flag, never the
// token.
func readJoinToken(token, file string) (string, error) {
	switch {
	case file == "":
		return token, nil
	case token != "":
		return "", errors.New("--join-token and --join-token-file: give one, not both")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--join-token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("--join-token-file %s: the file is empty", file)
	}
	return t, nil
}
