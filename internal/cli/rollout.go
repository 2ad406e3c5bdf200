package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/podcapacity"
)

func newRolloutCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rollout", Short: "Watch, pause, resume, restart or undo a deployment's rollout"}
	var toRevision int64
	undo := &cobra.Command{
		Use:   "undo <deployment>",
		Short: "Roll back to the previous revision (or --to-revision N); the old template becomes a new revision",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args[0], "rolled back", func(d *api.Deployment) {
				if d.Annotations == nil {
					d.Annotations = map[string]string{}
				}
				d.Annotations[api.AnnotationRollbackTo] = strconv.FormatInt(toRevision, 10)
			})
		},
	}
	undo.Flags().Int64Var(&toRevision, "to-revision", 0, "revision to roll back to (0: the previous one)")
	pause := &cobra.Command{
		Use: "pause <deployment>", Short: "Stop rolling out template changes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args[0], "paused", func(d *api.Deployment) { d.Spec.Paused = true })
		},
	}
	resume := &cobra.Command{
		Use: "resume <deployment>", Short: "Continue rolling out template changes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args[0], "resumed", func(d *api.Deployment) { d.Spec.Paused = false })
		},
	}
	restart := &cobra.Command{
		Use: "restart <deployment>", Short: "Replace every pod through a rolling update", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return setDeployment(cmd.Context(), g, args[0], "restarted", func(d *api.Deployment) {
				if d.Spec.Template.Annotations == nil {
					d.Spec.Template.Annotations = map[string]string{}
				}
				d.Spec.Template.Annotations["deployment.maestro.dev/restarted-at"] = time.Now().UTC().Format(time.RFC3339)
			})
		},
	}
	var timeout time.Duration
	status := &cobra.Command{
		Use:   "status <deployment>",
		Short: "Wait until the rollout completes; fail if it exceeds its progress deadline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rolloutStatus(cmd.Context(), g, args[0], timeout)
		},
	}
	status.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	history := &cobra.Command{
		Use: "history <deployment>", Short: "List the deployment's revisions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return rolloutHistory(cmd.Context(), g, args[0]) },
	}
	cmd.AddCommand(undo, pause, resume, restart, status, history)
	return cmd
}

func setDeployment(ctx context.Context, g *globals, name, verb string, change func(*api.Deployment)) error {
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

// rolloutStatus polls the deployment until its status shows the current
// generation fully rolled out, or the controller reports it stuck, or a
// pod of it can never run (no node pool can hold it). While pods wait for
// a node pool to add nodes it says so.
func rolloutStatus(ctx context.Context, g *globals, name string, timeout time.Duration) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		d, err := c.Deployments(g.namespace).Get(ctx, name)
		if err != nil {
			return err
		}
		done, msg, err := rolloutState(d)
		if err != nil {
			return err
		}
		if !done {
			capacity, err := podcapacity.ForDeployment(ctx, c, d)
			if err != nil {
				return err
			}
			if capacity.Never != nil {
				return fmt.Errorf("deployment %q cannot roll out: %w", name, capacity.Never)
			}
			if w := capacity.Message(); w != "" {
				msg += " (" + w + ")"
			}
		}
		if msg != last {
			fmt.Fprintln(g.out, msg)
			last = msg
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deployment %q: rollout not finished within %s", name, timeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// rolloutState reads a deployment's status the way `kubectl rollout status` does.
func rolloutState(d *api.Deployment) (done bool, msg string, err error) {
	want := api.Deref(d.Spec.Replicas, 1)
	st := d.Status
	if st.ObservedGeneration < d.Generation {
		return false, "Waiting for the deployment spec update to be observed...", nil
	}
	if c := api.FindCondition(st.Conditions, api.DeploymentProgressing); c != nil && c.Reason == api.ReasonProgressDeadlineExceeded {
		return false, "", fmt.Errorf("deployment %q exceeded its progress deadline: %s", d.Name, c.Message)
	}
	switch {
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("Waiting for rollout to finish: %d of %d new replicas have been updated...", st.UpdatedReplicas, want), nil
	case st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("Waiting for rollout to finish: %d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas), nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return false, fmt.Sprintf("Waiting for rollout to finish: %d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas), nil
	}
	return true, fmt.Sprintf("deployment %q successfully rolled out", d.Name), nil
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
