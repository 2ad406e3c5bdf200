package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/convert"
	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/plan/render"
	"github.com/maestro-dev/maestro/internal/schema"
)

// replaceTimeout bounds the wait for a replaced object to be gone before
// its successor is created.
const replaceTimeout = 2 * time.Minute

// applyOptions are apply's own flags.
type applyOptions struct {
	wait    bool
	timeout time.Duration
}

func newApplyCmd(g *globals) *cobra.Command {
	var o planOptions
	var ao applyOptions
	cmd := &cobra.Command{
		Use:   "apply [DIR|FILE]",
		Short: "Make the cluster match a directory of HCL manifests, or apply a saved plan",
		Long: `With a directory (default: the current one), plans as ` + "`maestro plan`" + ` does, prints the
plan and applies it: namespaces first, then config maps, secrets and volumes, then workloads,
services and autoscalers; deletions in the reverse order. Objects removed from the manifests are
deleted only if they carry this manifest set's label (they were applied from it). It does not
ask for confirmation (as terraform apply -auto-approve): review with maestro plan, or apply a
saved plan. Then it waits for every deployment it wrote to roll out, failing as soon as one
cannot (-wait=false not to wait).

With a FILE saved by ` + "`maestro plan -out FILE`" + `, applies exactly that plan, and refuses when
any object it covers changed since it was made, naming each.`,
		Example: `  maestro apply ./manifests
  maestro plan ./manifests -out plan.json && maestro apply plan.json`,
		DisableFlagParsing: true, // parsed by terraformFlags
		RunE: func(cmd *cobra.Command, args []string) error {
			args, helped, err := terraformFlags(cmd, args)
			if err != nil || helped {
				return err
			}
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			ctx := cmd.Context()
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				if len(o.targets)+len(o.vars) > 0 || o.set != "" {
					return fmt.Errorf("-target, -var and -set apply when planning: a saved plan is applied as it was made")
				}
				return applySaved(ctx, g, path, ao)
			}
			pl, err := makePlan(ctx, g, path, &o)
			if err != nil {
				return err
			}
			if err := render.Text(g.out, pl.plan, false); err != nil {
				return err
			}
			if !pl.plan.HasChanges() {
				return nil
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			return execute(ctx, g, c, pl.plan, rolloutWaits(pl.plan, pl.rollouts, ao))
		},
	}
	o.addFlags(cmd, false)
	cmd.Flags().BoolVar(&ao.wait, "wait", true, "wait for the rollout of every deployment written, failing fast when it cannot finish (a manifest's wait_for_rollout = false opts out)")
	cmd.Flags().DurationVar(&ao.timeout, "timeout", 10*time.Minute, "how long each rollout may take")
	return cmd
}

// rolloutWaits are the waits an apply makes after writing: one per
// deployment created, updated or replaced, with its manifest's settings
// (settings nil: the defaults, as for a saved plan).
func rolloutWaits(p *plan.Plan, settings map[string]*client.RolloutOptions, ao applyOptions) map[string]client.RolloutOptions {
	if !ao.wait {
		return nil
	}
	out := map[string]client.RolloutOptions{}
	for _, ch := range p.Changes {
		if ch.Kind != "Deployment" || ch.Action == plan.Delete || ch.Action == plan.NoOp {
			continue
		}
		opts := client.DefaultRolloutOptions()
		if s, ok := settings[ch.Address]; ok {
			if s == nil {
				continue // wait_for_rollout = false
			}
			opts = *s
		}
		opts.Timeout = ao.timeout
		out[ch.Address] = opts
	}
	return out
}

// applySaved applies a saved plan when nothing it covers changed since.
func applySaved(ctx context.Context, g *globals, path string, ao applyOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	saved, err := plan.Load(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	now := map[string]string{}
	for _, ch := range saved.Plan.Changes {
		seen, ok := saved.Seen[ch.Address]
		if !ok {
			continue
		}
		rv, err := currentVersion(ctx, c, ch, seen)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.Address, err)
		}
		now[ch.Address] = rv
	}
	if stale := plan.Stale(saved, now); len(stale) > 0 {
		return fmt.Errorf("the saved plan %s is stale; run `maestro plan` again:\n  %s", path, strings.Join(stale, "\n  "))
	}
	if !saved.Plan.HasChanges() {
		fmt.Fprintln(g.out, "No changes in the saved plan.")
		return nil
	}
	return execute(ctx, g, c, saved.Plan, rolloutWaits(saved.Plan, nil, ao))
}

// currentVersion is the live resourceVersion of a change's object ("" when
// absent), or seen when only what the plan does not look at changed: the
// controllers write a workload's status all the time, which moves its
// resourceVersion but neither its generation (spec changes) nor the
// attributes the plan compared.
func currentVersion(ctx context.Context, c *client.Client, ch plan.Change, seen string) (string, error) {
	kind, err := api.LookupKind(ch.Kind)
	if err != nil {
		return "", err
	}
	obj, err := client.Dynamic(c, kind, ch.Namespace).Get(ctx, ch.Name)
	if api.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	rv := strconv.FormatInt(obj.GetObjectMeta().ResourceVersion, 10)
	if rv == seen || ch.Before == nil || ch.Desired == nil {
		return rv, nil
	}
	if g := obj.GetObjectMeta().Generation; g == 0 || g != ch.Desired.GetObjectMeta().Generation {
		return rv, nil
	}
	nowAttrs, err := convert.Normalize(schema.KindOfAPI(ch.Kind), obj)
	if err != nil {
		return "", err
	}
	if covers(ch.Before, nowAttrs) {
		return seen, nil
	}
	return rv, nil
}

// covers reports whether every value of before is in now as it was.
func covers(before, now any) bool {
	switch b := before.(type) {
	case map[string]any:
		n, ok := now.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range b {
			if !covers(v, n[k]) {
				return false
			}
		}
		return true
	case []any:
		n, ok := now.([]any)
		if !ok || len(n) != len(b) {
			return false
		}
		for i := range b {
			if !covers(b[i], n[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(before) == fmt.Sprint(now)
}

// rank orders kinds for apply: what others need comes first.
func rank(apiKind string) int {
	return slices.Index(schema.Kinds(), schema.KindOfAPI(apiKind))
}

// execute applies the changes: deletions in reverse dependency order,
// then creations, updates and replacements in dependency order; then it
// waits for the rollouts of the deployments in waits.
func execute(ctx context.Context, g *globals, c *client.Client, p *plan.Plan, waits map[string]client.RolloutOptions) error {
	var deletes, writes []plan.Change
	for _, ch := range p.Changes {
		switch ch.Action {
		case plan.Delete:
			deletes = append(deletes, ch)
		case plan.Create, plan.Update, plan.Replace:
			writes = append(writes, ch)
		}
	}
	sort.SliceStable(deletes, func(i, j int) bool { return rank(deletes[i].Kind) > rank(deletes[j].Kind) })
	sort.SliceStable(writes, func(i, j int) bool { return rank(writes[i].Kind) < rank(writes[j].Kind) })
	var added, changed, destroyed int
	for _, ch := range append(deletes, writes...) {
		if err := applyChange(ctx, c, ch); err != nil {
			return fmt.Errorf("%s: %w (applied before it: %d added, %d changed, %d destroyed)", ch.Address, err, added, changed, destroyed)
		}
		switch ch.Action {
		case plan.Create:
			added++
		case plan.Update:
			changed++
		case plan.Delete:
			destroyed++
		case plan.Replace:
			added++
			destroyed++
		}
		fmt.Fprintf(g.out, "%s: %s\n", ch.Address, pastTense[ch.Action])
	}
	for _, ch := range writes {
		opts, ok := waits[ch.Address]
		if !ok {
			continue
		}
		if err := c.WaitForRollout(ctx, ch.Namespace, ch.Name, opts); err != nil {
			return fmt.Errorf("%s: written, but its rollout did not finish: %w", ch.Address, err)
		}
		fmt.Fprintf(g.out, "%s: rolled out\n", ch.Address)
	}
	fmt.Fprintf(g.out, "\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", added, changed, destroyed)
	return nil
}

var pastTense = map[plan.Action]string{plan.Create: "created", plan.Update: "updated", plan.Replace: "replaced", plan.Delete: "deleted"}

func applyChange(ctx context.Context, c *client.Client, ch plan.Change) error {
	kind, err := api.LookupKind(ch.Kind)
	if err != nil {
		return err
	}
	res := client.Dynamic(c, kind, ch.Namespace)
	switch ch.Action {
	case plan.Delete, plan.Replace:
		rv, err := liveVersion(ctx, res, ch) // checked against what the plan saw
		if err != nil {
			return err
		}
		if err := res.Delete(ctx, ch.Name, client.DeleteOptions{ResourceVersion: rv}); err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("deleting: %s", formatError(err))
		}
		if ch.Action == plan.Delete {
			return nil
		}
		if err := waitDeleted(ctx, res, ch.Name); err != nil {
			return err
		}
	}
	if ch.Desired == nil {
		return fmt.Errorf("the plan has no object to write")
	}
	if ch.Action == plan.Update {
		// The update goes with the version of the live object, read and
		// checked against the plan at each try: a write since the read
		// (its status, by a controller or agent) conflicts, and the next
		// try reads it again.
		err = client.RetryOnConflict(ctx, func() error {
			rv, err := liveVersion(ctx, res, ch) // may add the pod's binding to ch.Desired
			if err != nil {
				return err
			}
			obj, err := convert.Copy(ch.Desired)
			if err != nil {
				return err
			}
			obj.GetObjectMeta().ResourceVersion = rv
			_, err = res.Update(ctx, obj)
			return err
		})
	} else {
		var obj api.Object
		if obj, err = convert.Copy(ch.Desired); err != nil {
			return err
		}
		m := obj.GetObjectMeta()
		m.UID, m.ResourceVersion, m.Generation, m.CreationTimestamp = "", 0, 0, time.Time{}
		_, err = res.Create(ctx, obj)
	}
	switch {
	case api.IsConflict(err):
		return fmt.Errorf("it changed while applying: run `maestro plan` again")
	case err != nil:
		return errors.New(masked(formatError(err), ch.Desired))
	}
	return nil
}

// masked keeps a secret's values out of a message (the server may quote
// what it refused).
func masked(msg string, obj api.Object) string {
	s, ok := obj.(*api.Secret)
	if !ok {
		return msg
	}
	for _, v := range s.Data {
		if len(v) > 0 {
			msg = strings.ReplaceAll(msg, string(v), "(sensitive value)")
		}
	}
	return msg
}

// liveVersion reads the object a change is about and returns its
// resourceVersion, refusing when its spec changed since the plan (its
// generation moved; status writes do not count).
func liveVersion(ctx context.Context, res client.Resource[api.Object], ch plan.Change) (int64, error) {
	live, err := res.Get(ctx, ch.Name)
	if api.IsNotFound(err) && ch.Action == plan.Delete {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading it: %s", formatError(err))
	}
	lm := live.GetObjectMeta()
	if ch.Desired != nil && ch.Desired.GetObjectMeta().Generation != lm.Generation && !boundSince(ch, live) {
		return 0, fmt.Errorf("it changed since the plan (generation %d -> %d): run `maestro plan` again", ch.Desired.GetObjectMeta().Generation, lm.Generation)
	}
	if ch.Desired == nil && strconv.FormatInt(lm.ResourceVersion, 10) != ch.ResourceVersion && lm.Generation != 0 {
		if gen, ok := liveGeneration(ch); ok && gen != lm.Generation {
			return 0, fmt.Errorf("it changed since the plan: run `maestro plan` again")
		}
	}
	return lm.ResourceVersion, nil
}

// boundSince reports whether the one spec write since the plan of an
// update or a replacement is the scheduler binding the pod (spec.nodeName,
// which no manifest sets on a pod the server holds). An update then
// writes the binding into the change's object, as planning it now would
// have; a replacement deletes the pod wherever it was bound, and its
// successor is scheduled afresh.
func boundSince(ch plan.Change, live api.Object) bool {
	was, ok1 := ch.Live.(*api.Pod)
	now, ok2 := live.(*api.Pod)
	want, ok3 := ch.Desired.(*api.Pod)
	if !ok1 || !ok2 || !ok3 || ch.Action != plan.Update && ch.Action != plan.Replace ||
		was.Spec.NodeName != "" || now.Spec.NodeName == "" || want.Spec.NodeName != "" {
		return false
	}
	bound := *was
	bound.Spec.NodeName = now.Spec.NodeName
	if !api.DesiredStateEqual(&bound, now) {
		return false
	}
	if ch.Action == plan.Update {
		want.Spec.NodeName = now.Spec.NodeName
		want.Generation = now.Generation
	}
	return true
}

// liveGeneration is the generation of the live object the plan saw, when
// the change kept it.
func liveGeneration(ch plan.Change) (int64, bool) {
	if ch.Live == nil {
		return 0, false
	}
	return ch.Live.GetObjectMeta().Generation, true
}

// waitDeleted waits until a deleted object is gone (a replaced pod stops
// first), so its successor can take the name.
func waitDeleted(ctx context.Context, res client.Resource[api.Object], name string) error {
	ctx, cancel := context.WithTimeout(ctx, replaceTimeout)
	defer cancel()
	for {
		_, err := res.Get(ctx, name)
		if api.IsNotFound(err) {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still present %s after its deletion: look for finalizers or a pod that does not stop", replaceTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
