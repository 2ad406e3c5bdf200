package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver"
	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/clouds"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/autoscaler"
	"github.com/maestro-dev/maestro/engine/controller/clusterautoscaler"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/engine/metrics"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/version"
)

func newServerCmd(g *globals) *cobra.Command {
	var (
		cfg                 controlplane.Config
		mcfg                manager.Config
		controllers, pools  bool
		logLevel, logFormat string
		localAgentArgs      []string
		sshAgentArgs        []string
		cloudAgentArgs      []string
		localNet            localMachineNetwork
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a control plane: API server over etcd (embedded unless --etcd-endpoints is set)",
		Long: `Run a maestro control plane.

By default the server keeps its state in an embedded etcd member inside
--data-dir. With --etcd-endpoints it uses an external etcd cluster instead, and
several servers may share it.

On start it writes a client config (endpoint, CA certificate, admin token) to
$MAESTRO_CONFIG or ~/.maestro/config (see --client-config), which the CLI and
the Terraform provider read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Log = log
			cfg.Version = version.Version
			if exe, err := os.Executable(); err == nil {
				cfg.AgentBinary = exe // cloud machines fetch their agent from the server
			}
			if controllers {
				cfg.Leader = func(ctx context.Context, c *client.Client) {
					mcfg := mcfg
					if pools {
						var err error
						mcfg.Machines, err = manager.MachinesConfig(cfg.DataDir,
							clouds.Options{LocalAgentArgs: localAgentArgs, SSHAgentArgs: sshAgentArgs, CloudAgentArgs: cloudAgentArgs, LocalNetwork: localNet.network(),
								Logger: log.With("component", "clouds")}, c)
						if err != nil {
							log.Error("node pools are off", "err", err)
						}
					}
					if err := manager.Run(ctx, c, log, mcfg); err != nil {
						log.Error("control loops failed", "err", err)
					}
				}
			}
			if cfg.ClientConfigPath == "" && g.configPath != "" {
				cfg.ClientConfigPath = g.configPath
			}
			ctx := cmd.Context()
			if err := localNet.prepare(ctx, &cfg); err != nil {
				return err
			}
			cp, err := controlplane.Start(ctx, cfg)
			if err != nil {
				return fmt.Errorf("starting server: %w", err)
			}
			log.Info("maestro server ready", "url", cp.ClientConfig().Server, "data_dir", cfg.DataDir,
				"service_cidr", cfg.ServiceCIDR.String(), "cluster_dns", cp.ClusterDNS().String(),
				"pod_cidr", cfg.PodCIDR.String(), "node_cidr_mask_size", cfg.NodeCIDRMaskSize, "pod_network", cfg.PodNetworkMode)
			waitErr := cp.Wait(ctx)
			log.Info("shutting down")
			if err := cp.Close(); err != nil && waitErr == nil {
				waitErr = err
			}
			if err := localNet.cleanup(context.WithoutCancel(ctx), cfg.DataDir); err != nil {
				log.Warn("removing the local machines' bridge", "err", err)
			}
			return waitErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", defaultDataDir(), "directory for the embedded etcd member, certificates, keys and the admin token")
	f.StringVar(&cfg.Listen, "listen", controlplane.DefaultListen, "address the HTTPS API listens on (host:port; port 0 picks one)")
	f.StringVar(&cfg.AdvertiseAddress, "advertise-address", "", "host clients use to reach the API (default: the listen host)")
	f.StringSliceVar(&cfg.TLSSANs, "tls-san", nil, "extra DNS names or IPs for the serving certificate")
	f.StringSliceVar(&cfg.EtcdEndpoints, "etcd-endpoints", nil, "external etcd endpoints (comma-separated); empty runs an embedded member")
	f.StringVar(&cfg.EtcdCAFile, "etcd-cafile", "", "CA certificate of the external etcd cluster")
	f.StringVar(&cfg.EtcdCertFile, "etcd-certfile", "", "client certificate for the external etcd cluster")
	f.StringVar(&cfg.EtcdKeyFile, "etcd-keyfile", "", "client key for the external etcd cluster")
	f.DurationVar(&cfg.EtcdRequestTimeout, "etcd-request-timeout", store.DefaultRequestTimeout, "deadline of every etcd call: while etcd does not answer, requests get 503 with Retry-After after it")
	f.StringVar(&cfg.EtcdPrefix, "etcd-prefix", controlplane.DefaultEtcdPrefix, "key prefix of this cluster in etcd")
	f.StringVar(&cfg.EncryptionKeyFile, "encryption-key-file", "", "key file for secrets at rest (default <data-dir>/encryption.key, created on first start; keep it outside the data dir, and share it between servers on one etcd)")
	f.StringVar(&cfg.ClientConfigPath, "client-config", "", "where to write the client config (default $MAESTRO_CONFIG or ~/.maestro/config; \"-\" writes none)")
	cfg.ServiceCIDR, cfg.NodePortRange = allocator.DefaultServiceCIDR, allocator.DefaultNodePortRange
	f.Var(cidrFlag{&cfg.ServiceCIDR, allocator.DefaultServiceCIDR, allocator.ValidateServiceCIDR}, "service-cidr", "range services' cluster IPs are allocated from; its tenth address is the cluster DNS address (servers sharing an etcd must agree)")
	f.Var((*portRangeFlag)(&cfg.NodePortRange), "service-node-port-range", "MIN-MAX range node ports of NodePort and LoadBalancer services are allocated from")
	addPodNetworkFlags(cmd, &cfg.PodCIDR, &cfg.NodeCIDRMaskSize, &cfg.PodNetworkMode)
	f.Int64Var(&cfg.MaxRequestBytes, "max-request-bytes", 0, "largest request body accepted (default 3 MiB)")
	f.DurationVar(&cfg.NodeCredentialTTL, "node-credential-ttl", controlplane.DefaultNodeCredentialTTL,
		"lifetime of the token and certificate a node gets by joining; agents renew them after two thirds of it")
	f.DurationVar(&cfg.MetricsInterval, "metrics-interval", metrics.DefaultInterval, "how often agents report usage; a node silent for 3 intervals drops out of `maestro top` and the autoscaler's view")
	f.IntVar(&cfg.MaxObjectBytes, "max-object-bytes", registry.DefaultMaxObjectBytes, "largest object stored, encoded (413 beyond; keep it below etcd's request limit, 1.5 MiB by default)")
	addLimitFlags(cmd, &cfg.Limits)
	f.BoolVar(&controllers, "controllers", true, "run the scheduler and controllers (on the elected leader, when several servers share an etcd)")
	f.BoolVar(&pools, "node-pools", true, "run the node pool and machine controllers: local pools' machines are processes of this host under <data-dir>/machines")
	localNet.addFlags(cmd)
	f.StringSliceVar(&sshAgentArgs, "ssh-machine-agent-args", nil, "extra `maestro agent` flags of ssh pools' machines (e.g. --infra-image=...)")
	f.StringSliceVar(&cloudAgentArgs, "cloud-machine-agent-args", nil, "extra `maestro agent` flags of aws and gcp pools' machines (in their user data)")
	f.StringSliceVar(&localAgentArgs, "local-machine-agent-args", nil, "extra `maestro agent` flags of local pools' machines (e.g. --runtime=process)")
	f.DurationVar(&cfg.LeaseTTL, "leader-lease-ttl", controlplane.DefaultLeaseTTL, "how long a dead leader keeps leadership before another server takes over")
	addBackupFlags(cmd, &cfg)
	f.DurationVar(&mcfg.Controllers.NodeMonitorGracePeriod, "node-monitor-grace-period", controller.DefaultNodeMonitorGracePeriod, "how long a node may miss heartbeats before it is marked NotReady")
	f.DurationVar(&mcfg.Controllers.PodEvictionTimeout, "pod-eviction-timeout", controller.DefaultPodEvictionTimeout, "how long pods stay on a NotReady node before eviction (pod tolerations override)")
	f.DurationVar(&mcfg.Controllers.SecondaryEvictionInterval, "secondary-eviction-interval", controller.DefaultSecondaryEvictionInterval, "when more than --unhealthy-threshold of nodes are down, evict from one node per interval")
	f.Float64Var(&mcfg.Controllers.UnhealthyThreshold, "unhealthy-threshold", controller.DefaultUnhealthyThreshold, "fraction of NotReady nodes that slows evictions down")
	f.DurationVar(&mcfg.Autoscaler.SyncPeriod, "autoscaler-sync-period", autoscaler.DefaultSyncPeriod, "how often each horizontal autoscaler reads its metrics and rescales its target")
	f.DurationVar(&mcfg.Autoscaler.CPUInitializationPeriod, "autoscaler-cpu-initialization-period", autoscaler.DefaultCPUInitializationPeriod,
		"after a pod starts, its CPU samples count for the autoscaler only once it is ready and a full metric window has passed")
	ca := &mcfg.ClusterAutoscaler
	f.DurationVar(&ca.ScanInterval, "scan-interval", clusterautoscaler.DefaultScanInterval, "how often the cluster autoscaler looks at autoscaling node pools again")
	f.DurationVar(&ca.BatchQuiet, "scale-up-batch-quiet", clusterautoscaler.DefaultBatchQuiet, "pending pods are batched for a scale-up until none came for this long...")
	f.DurationVar(&ca.BatchMax, "scale-up-batch-max", clusterautoscaler.DefaultBatchMax, "...or for this long after the first")
	f.DurationVar(&ca.ScaleDownUnneededTime, "scale-down-unneeded-time", clusterautoscaler.DefaultScaleDownUnneededTime, "how long a node of an autoscaling pool stays unneeded before it is removed")
	f.Float64Var(&ca.ScaleDownUtilizationThreshold, "scale-down-utilization-threshold", clusterautoscaler.DefaultScaleDownUtilizationThreshold, "requested share of a node's cpu and memory under which it may be unneeded")
	f.Int32Var(&mcfg.Scheduler.PercentageOfNodesToScore, "scheduler-percentage-of-nodes-to-score", 0, "percentage of feasible nodes to score in large clusters (0: adaptive)")
	f.StringVar(&mcfg.Scheduler.Scoring, "scheduler-scoring", "LeastAllocated", "LeastAllocated (spread load) or MostAllocated (bin packing)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

// addPodNetworkFlags adds the flags of the pod network: the range node pod
// CIDRs come from and how nodes route to each other (maestro server, up).
func addPodNetworkFlags(cmd *cobra.Command, cidr *netip.Prefix, maskSize *int, mode *string) {
	f := cmd.Flags()
	*cidr = network.DefaultPodCIDR
	f.Var(cidrFlag{cidr, network.DefaultPodCIDR, network.ValidatePodCIDR}, "pod-cidr", "range each node's pod CIDR is carved from when it registers (must not overlap --service-cidr; servers sharing an etcd must agree)")
	f.IntVar(maskSize, "node-cidr-mask-size", network.DefaultNodeCIDRMaskSize, "prefix length of each node's pod CIDR (24: 254 pods per node, 256 nodes in a /16)")
	f.StringVar(mode, "pod-network", api.PodNetworkAuto, "how nodes reach each other's pods: auto (host-gw to nodes on a shared link, WireGuard to the others), host-gw or wireguard")
}

// addBackupFlags adds the flags of periodic backups and restores.
func addBackupFlags(cmd *cobra.Command, cfg *controlplane.Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.Restore, "restore", "", "restore this backup (maestro backup create) into the embedded etcd of a new data dir, then start; needs the backed-up cluster's --encryption-key-file (and its pki dir copied into --data-dir to keep agents and clients)")
	f.DurationVar(&cfg.BackupInterval, "backup-interval", 0, "take a backup this often, on the leader (0: no periodic backups)")
	f.IntVar(&cfg.BackupRetain, "backup-retain", controlplane.DefaultBackupRetain, "how many periodic backups to keep")
	f.StringVar(&cfg.BackupDir, "backup-dir", "", "where periodic backups go (default <data-dir>/backups)")
}

// addLimitFlags binds the flags that bound what one client can take of the
// API server.
func addLimitFlags(cmd *cobra.Command, l *apiserver.Limits) {
	*l = apiserver.DefaultLimits()
	f := cmd.Flags()
	f.IntVar(&l.SystemSeats, "max-requests-inflight-system", l.SystemSeats, "requests of the control plane's own components (scheduler, controllers) running at once")
	f.IntVar(&l.NodeSeats, "max-requests-inflight-node", l.NodeSeats, "requests of node agents and joining machines running at once")
	f.IntVar(&l.WorkloadSeats, "max-requests-inflight-workload", l.WorkloadSeats, "requests of admin and viewer tokens (people, CI, Terraform) running at once")
	f.IntVar(&l.SeatsPerIdentity, "max-requests-inflight-per-identity", l.SeatsPerIdentity, "requests one token may have running at once at the node and workload levels")
	f.IntVar(&l.QueueLength, "request-queue-length", l.QueueLength, "requests one token may have waiting for a seat (429 with Retry-After beyond)")
	f.DurationVar(&l.QueueWait, "request-queue-wait", l.QueueWait, "how long a request waits for a seat before a 429 with Retry-After")
	f.IntVar(&l.WatchesPerIdentity, "max-watches-per-identity", l.WatchesPerIdentity, "watches and followed logs one token may hold open (429 beyond; the control plane's own are exempt)")
	f.DurationVar(&l.HeaderTimeout, "request-header-timeout", l.HeaderTimeout, "deadline for a request's headers to arrive")
	f.DurationVar(&l.BodyTimeout, "request-body-timeout", l.BodyTimeout, "deadline for a request's body to arrive, read before the request takes a seat (408 beyond)")
	f.DurationVar(&l.RequestTimeout, "request-timeout", l.RequestTimeout, "deadline for writing an answer (watches and followed logs excepted)")
}

func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".maestro/server"
	}
	return filepath.Join(home, ".maestro", "server")
}

// cidrFlag is a CIDR flag checked by its validate function, so a bad
// value fails at parse time saying what is wrong with it.
type cidrFlag struct {
	p        *netip.Prefix
	example  netip.Prefix
	validate func(netip.Prefix) error
}

func (f cidrFlag) String() string {
	if f.p == nil {
		return ""
	}
	return f.p.String()
}
func (f cidrFlag) Type() string { return "cidr" }

func (f cidrFlag) Set(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("not a CIDR (e.g. %s): %w", f.example, err)
	}
	if err := f.validate(p); err != nil {
		return err
	}
	*f.p = p
	return nil
}

// portRangeFlag is a MIN-MAX port range flag.
type portRangeFlag allocator.PortRange

func (f *portRangeFlag) String() string { return allocator.PortRange(*f).String() }
func (f *portRangeFlag) Type() string   { return "range" }

func (f *portRangeFlag) Set(s string) error {
	r, err := allocator.ParsePortRange(s)
	if err != nil {
		return err
	}
	*f = portRangeFlag(r)
	return nil
}
