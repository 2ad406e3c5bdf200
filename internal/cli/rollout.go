package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newRolloutCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rollout", Short: "Watch, pause, resume, restart or undo a deployment's rollout"}
	// Every subcommand names the deployment as `maestro scale` names
	// objects: "deployment web", "deployment/web", "deploy web" or "web".
	const target = "[deployment] <name>"
	var toRevision int64
	undo := &cobra.Command{
		Use:   "undo " + target,
		Short: "Roll back to the previous revision (or --to-revision N); the old template becomes a new revision",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args, "rolled back", func(d *api.Deployment) {
				if d.Annotations == nil {
					d.Annotations = map[string]string{}
				}
				d.Annotations[api.AnnotationRollbackTo] = strconv.FormatInt(toRevision, 10)
			})
		},
	}
	undo.Flags().Int64Var(&toRevision, "to-revision", 0, "revision to roll back to (0: the previous one)")
	pause := &cobra.Command{
		Use: "pause " + target, Short: "Stop rolling out template changes", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args, "paused", func(d *api.Deployment) { d.Spec.Paused = true })
		},
	}
	resume := &cobra.Command{
		Use: "resume " + target, Short: "Continue rolling out template changes", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args, "resumed", func(d *api.Deployment) { d.Spec.Paused = false })
		},
	}
	restart := &cobra.Command{
		Use: "restart " + target, Short: "Replace every pod through a rolling update", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args, "restarted", func(d *api.Deployment) {
				if d.Spec.Template.Annotations == nil {
					d.Spec.Template.Annotations = map[string]string{}
				}
				d.Spec.Template.Annotations["deployment.maestro.dev/restarted-at"] = time.Now().UTC().Format(time.RFC3339)
			})
		},
	}
	opt := client.DefaultRolloutOptions()
	status := &cobra.Command{
		Use:   "status " + target,
		Short: "Wait until the rollout completes; fail as soon as it cannot (unschedulable pods, a crash loop, its progress deadline)",
		Example: `  maestro rollout status deployment web
  maestro rollout status deploy/web --timeout 5m --unschedulable-timeout 2m`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			return rolloutStatus(cmd.Context(), g, name, opt)
		},
	}
	status.Flags().DurationVar(&opt.Timeout, "timeout", 10*time.Minute, "give up after this long")
	status.Flags().DurationVar(&opt.UnschedulableTimeout, "unschedulable-timeout", client.DefaultUnschedulableTimeout,
		"fail when a new pod fits no node, and no node pool is adding one for it, for this long (0: at the scheduler's first verdict)")
	status.Flags().Int32Var(&opt.CrashLoopRestarts, "crash-loop-restarts", client.DefaultCrashLoopRestarts,
		"fail when a container of a new pod crashes again after this many restarts")
	status.Flags().Int32Var(&opt.ImagePullFailures, "image-pull-failures", client.DefaultImagePullFailures,
		"fail when the image of a new pod's container failed to pull this many times (0: never)")
	history := &cobra.Command{
		Use: "history " + target, Short: "List the deployment's revisions", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			return rolloutHistory(cmd.Context(), g, name)
		},
	}
	cmd.AddCommand(undo, pause, resume, restart, status, history)
	return cmd
}

// deploymentArg reads the deployment a rollout command names: "web",
// "deployment/web" or "deploy/web", or the kind and the name as two
// arguments ("deployment web"); any kind but a deployment is refused.
func deploymentArg(args []string) (string, error) {
	kind, name := "deployment", args[0]
	switch {
	case len(args) == 2:
		kind, name = args[0], args[1]
	case strings.Contains(args[0], "/"):
		kind, name, _ = strings.Cut(args[0], "/")
	}
	k, err := api.LookupKind(kind)
	if err != nil {
		return "", err
	}
	if k.Kind != "Deployment" {
		return "", fmt.Errorf("%s have no rollout: name a deployment (`deployment NAME`)", k.Plural)
	}
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q: not a deployment name", name)
	}
	return name, nil
}

func setDeployment(ctx context.Context, g *globals, args []string, verb string, change func(*api.Deployment)) error {
	name, err := deploymentArg(args)
	if err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	err = updateWithRetry(ctx, c.Deployments(g.namespace), name, func(d *api.Deployment) error {
		change(d)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.out, "deployment/%s %s\n", name, verb)
	return nil
}

// rolloutStatus waits for the deployment's rollout with the one
// definition the Terraform provider uses too (client.WaitForRollout),
// printing each new status line; it fails at once, with the reason and
// advice, when waiting cannot help.
func rolloutStatus(ctx context.Context, g *globals, name string, opt client.RolloutOptions) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	opt.Progress = func(status string) { fmt.Fprintln(g.out, status) }
	if err := c.WaitForRollout(ctx, g.namespace, name, opt); err != nil {
		return err
	}
	return nil
}

func rolloutHistory(ctx context.Context, g *globals, name string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	d, err := c.Deployments(g.namespace).Get(ctx, name)
	if err != nil {
		return err
	}
	rss, _, err := c.ReplicaSets(g.namespace).List(ctx, client.ListOptions{})
	if err != nil {
		return err
	}
	type rev struct {
		n      int64
		rs     *api.ReplicaSet
		images string
	}
	var revs []rev
	for _, rs := range rss {
		if ref := rs.ControllerRef(); ref == nil || ref.UID != d.UID {
			continue
		}
		n, _ := strconv.ParseInt(rs.Annotations[api.AnnotationRevision], 10, 64)
		images := ""
		for i, ct := range rs.Spec.Template.Spec.Containers {
			if i > 0 {
				images += ","
			}
			images += ct.Image
		}
		revs = append(revs, rev{n, rs, images})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].n < revs[j].n })
	tw := tabwriter.NewWriter(g.out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tREPLICASET\tREPLICAS\tIMAGES")
	for _, r := range revs {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", r.n, r.rs.Name, api.Deref(r.rs.Spec.Replicas, 0), r.images)
	}
	return tw.Flush()
}
