package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newScaleCmd(g *globals) *cobra.Command {
	var replicas int32
	cmd := &cobra.Command{
		Use:   "scale <deployment|replicaset|nodepool> <name> --replicas N",
		Short: "Set the number of replicas of a deployment or replica set, or the size of a node pool",
		Example: `  maestro scale deployment web --replicas 5
  maestro scale nodepool local --replicas 4   # machines, within the pool's min and max`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return fmt.Errorf("--replicas: required")
			}
			if replicas < 0 {
				return fmt.Errorf("--replicas %d: must be >= 0", replicas)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			kind, err := api.LookupKind(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch kind.Kind {
			case "Deployment":
				err = updateWithRetry(ctx, c.Deployments(g.namespace), args[1], func(d *api.Deployment) error {
					d.Spec.Replicas = &replicas
					return nil
				})
			case "ReplicaSet":
				err = updateWithRetry(ctx, c.ReplicaSets(g.namespace), args[1], func(rs *api.ReplicaSet) error {
					rs.Spec.Replicas = &replicas
					return nil
				})
			case "NodePool":
				err = updateWithRetry(ctx, c.NodePools(), args[1], func(p *api.NodePool) error {
					p.Spec.Size = &replicas
					return nil
				})
			default:
				return fmt.Errorf("%s cannot be scaled: use a deployment, replica set or node pool", kind.Plural)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(g.out, "%s/%s scaled to %d\n", strings.ToLower(kind.Kind), args[1], replicas)
			return nil
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "desired number of replicas")
	return cmd
}

// updateWithRetry reads, changes and writes an object, starting over when
// someone else wrote in between (the write is a compare-and-swap).
func updateWithRetry[T api.Object](ctx context.Context, res client.Resource[T], name string, change func(T) error) error {
	for attempt := 0; ; attempt++ {
		obj, err := res.Get(ctx, name)
		if err != nil {
			return err
		}
		if err := change(obj); err != nil {
			return err
		}
		_, err = res.Update(ctx, obj)
		if api.IsConflict(err) && attempt < 5 {
			continue
		}
		return err
	}
}
