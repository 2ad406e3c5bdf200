package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/simnode"
)

func newSimNodesCmd(g *globals) *cobra.Command {
	var (
		count               int
		prefix, zones       string
		cpu, memory         string
		pods                int64
		heartbeat           time.Duration
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "simnodes",
		Short: "Run simulated nodes that register, heartbeat and report their pods running, without containers",
		Long: `Run simulated ("hollow") nodes against the cluster in the client config, for
scale experiments with the scheduler and controllers. Pods bound to them are
reported Running and Ready (annotate a pod sim.maestro.dev/ready=false to keep
it unready). The nodes stay registered after exit and turn NotReady.`,
		Example: `  maestro simnodes --count 100 --zones zone-a,zone-b,zone-c`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return fmt.Errorf("--count %d: must be at least 1", count)
			}
			cpuQ, err := resource.ParseQuantity(cpu)
			if err != nil {
				return fmt.Errorf("--cpu: %w", err)
			}
			memQ, err := resource.ParseQuantity(memory)
			if err != nil {
				return fmt.Errorf("--memory: %w", err)
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			warnPodCIDRCapacity(ctx, c, count, cmd.ErrOrStderr())
			fleet := simnode.NewFleet(simnode.Config{Client: c, Log: log, HeartbeatInterval: heartbeat})
			zoneList := strings.Split(zones, ",")
			for i := range count {
				spec := simnode.NodeSpec{Name: fmt.Sprintf("%s%d", prefix, i), Zone: strings.TrimSpace(zoneList[i%len(zoneList)]),
					CPU: cpuQ, Memory: memQ, Pods: pods}
				if _, err := fleet.Add(ctx, spec); err != nil {
					return err
				}
			}
			fmt.Fprintf(g.out, "%d simulated nodes registered (%s0..%s%d); Ctrl-C stops them\n", count, prefix, prefix, count-1)
			fleet.Run(ctx)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 3, "number of nodes")
	f.StringVar(&prefix, "prefix", "sim-", "node name prefix")
	f.StringVar(&zones, "zones", "zone-a,zone-b,zone-c", "zones, assigned in turn")
	f.StringVar(&cpu, "cpu", "4", "cpu per node")
	f.StringVar(&memory, "memory", "32Gi", "memory per node")
	f.Int64Var(&pods, "pods", 110, "pods per node")
	f.DurationVar(&heartbeat, "heartbeat", 2*time.Second, "heartbeat interval")
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}

// warnPodCIDRCapacity says so when the cluster's pod range cannot give
// every simulated node a pod CIDR: the rest would wait with
// NetworkUnavailable=True and take no pods, which skews a scale experiment.
func warnPodCIDRCapacity(ctx context.Context, c *client.Client, count int, w io.Writer) {
	info, err := c.ClusterInfo(ctx)
	if err != nil {
		return // the registration that follows reports a broken connection
	}
	cluster, err := netip.ParsePrefix(info.PodCIDR)
	if err != nil {
		return
	}
	set, err := network.NewCIDRSet(cluster, info.NodeCIDRMaskSize)
	if err != nil {
		return
	}
	nodes, _, err := c.Nodes().List(ctx, client.ListOptions{})
	if err != nil {
		return
	}
	if need := uint64(len(nodes) + count); need > set.Size() {
		fmt.Fprintf(w, "warning: the cluster's pod CIDR %s holds %d node CIDRs of /%d and %d nodes exist: %d of these simulated nodes "+
			"will get none (NetworkUnavailable=True, PodCIDRExhausted) and take no pods; for scale experiments start the server "+
			"with a larger range, e.g. --pod-cidr %s (%d nodes of /24)\n",
			set.Cluster(), set.Size(), set.MaskSize(), len(nodes), need-set.Size(), network.LargePodCIDR, 1<<(24-network.LargePodCIDR.Bits()))
	}
}
