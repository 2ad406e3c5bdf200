package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/convert"
	"github.com/maestro-dev/maestro/internal/fieldpath"
	manifests "github.com/maestro-dev/maestro/internal/manifest"
	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/plan/render"
	"github.com/maestro-dev/maestro/internal/schema"
)

// Label and annotation that tie an object to the manifests that wrote it:
// `apply` deletes an object removed from the manifests only when it
// carries its set's label (the annotation keeps its address).
const (
	LabelManifestSet       = "maestro.dev/manifest-set"
	AnnotationManifestSet  = "maestro.dev/manifest-set"
	AnnotationManifestAddr = "maestro.dev/manifest-address"
	// AnnotationManifestKeys records the label and annotation keys the
	// manifest named at the last apply (convert.Applied as JSON): a key
	// later taken out of the manifest is removed from the object, as
	// Terraform's state would have it, while others' keys stay.
	AnnotationManifestKeys = "maestro.dev/manifest-keys"
)

// planOptions are the flags plan and apply share.
type planOptions struct {
	format  string
	out     string
	targets []string
	vars    []string
	set     string
}

func (o *planOptions) addFlags(cmd *cobra.Command, withOutput bool) {
	cmd.Flags().StringArrayVar(&o.targets, "target", nil, "only this address (kind.name), repeatable")
	cmd.Flags().StringArrayVar(&o.vars, "var", nil, "set a variable: NAME=VALUE, repeatable (also $"+manifests.EnvPrefix+"NAME)")
	cmd.Flags().StringVar(&o.set, "set", "", "name of the manifest set; objects removed from it are deleted (default: the directory's base name)")
	if withOutput {
		cmd.Flags().StringVar(&o.format, "format", "text", "output: text, markdown or json (terraform show -json shape)")
		cmd.Flags().StringVar(&o.out, "out", "", "save the plan to FILE for `maestro apply FILE`")
	}
}

func newPlanCmd(g *globals) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what apply would change to make the cluster match a directory of HCL manifests",
		Long: `Reads every *.hcl file of DIR (default: the current directory): the provider's resources
without the resource keyword and the maestro_ prefix, variables and locals. Compares them with
the cluster and prints the changes in Terraform's notation.

Exit status: 0 no changes, 2 changes, 1 error.`,
		Example: `  maestro plan ./manifests
  maestro plan ./manifests -var replicas=3 -out plan.json
  maestro plan ./manifests -format markdown > comment.md`,
		DisableFlagParsing: true, // parsed by terraformFlags
		RunE: func(cmd *cobra.Command, args []string) error {
			args, helped, err := terraformFlags(cmd, args)
			if err != nil || helped {
				return err
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if err := checkFormat(o.format); err != nil {
				return err
			}
			pl, err := makePlan(cmd.Context(), g, dir, &o)
			if err != nil {
				return err
			}
			if o.out != "" {
				if err := savePlan(o.out, pl); err != nil {
					return err
				}
			}
			if err := renderPlan(g.out, pl.plan, o.format); err != nil {
				return err
			}
			if o.out != "" && o.format == "text" {
				fmt.Fprintf(g.out, "\nSaved the plan to %s: `maestro apply %s` applies exactly it.\n", o.out, o.out)
			}
			if pl.plan.HasChanges() {
				return exitCode(2)
			}
			return nil
		},
	}
	o.addFlags(cmd, true)
	cmd.AddCommand(withGlobalFlags(newPlanRenderCmd(g)))
	return cmd
}

// withGlobalFlags takes the global flags (--config, -n) out of the
// arguments of a command that parses its own (DisableFlagParsing): cobra
// hands it those given before its name too.
func withGlobalFlags(cmd *cobra.Command) *cobra.Command {
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		global := c.InheritedFlags()
		var rest []string
		for i := 0; i < len(args); i++ {
			a := args[i]
			if a == "--" {
				rest = append(rest, args[i:]...)
				break
			}
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			f := global.Lookup(name)
			if f == nil && len(name) == 1 {
				f = global.ShorthandLookup(name)
			}
			if !strings.HasPrefix(a, "-") || f == nil {
				rest = append(rest, a)
				continue
			}
			if !hasValue && i+1 < len(args) {
				i++
				value = args[i]
			}
			if err := global.Set(f.Name, value); err != nil {
				return err
			}
		}
		return run(c, rest)
	}
	return cmd
}

// terraformFlags parses the flags of plan and apply, which take
// Terraform's single-dash spelling (-out FILE, -var k=v) as well as the
// double-dash one. It returns the positional arguments (at most one), and
// whether it printed the help instead.
func terraformFlags(cmd *cobra.Command, args []string) ([]string, bool, error) {
	fs := cmd.Flags()
	fs.AddFlagSet(cmd.InheritedFlags())
	norm := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			norm = append(norm, args[i:]...)
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			if name, _, _ := strings.Cut(a[1:], "="); fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		norm = append(norm, a)
	}
	if err := fs.Parse(norm); err != nil {
		return nil, false, fmt.Errorf("%w\n%s", err, cmd.UsageString())
	}
	if help, _ := fs.GetBool("help"); help {
		return nil, true, cmd.Help()
	}
	if fs.NArg() > 1 {
		return nil, false, fmt.Errorf("%s takes at most one argument, got %q", cmd.Name(), fs.Args())
	}
	return fs.Args(), false, nil
}

func checkFormat(f string) error {
	if f != "text" && f != "markdown" && f != "json" {
		return fmt.Errorf("-format %q: must be text, markdown or json", f)
	}
	return nil
}

func renderPlan(w io.Writer, p *plan.Plan, format string) error {
	switch format {
	case "markdown":
		return render.Markdown(w, p)
	case "json":
		return render.JSON(w, p)
	}
	return render.Text(w, p, false)
}

// planned is a plan with what apply and -out need.
type planned struct {
	plan     *plan.Plan
	previews map[string]api.PlacementPreview
	// rollouts are the manifests' rollout-wait settings by address (nil:
	// wait_for_rollout = false).
	rollouts map[string]*client.RolloutOptions
	seen     map[string]string
	dir      string
	setName  string
}

func savePlan(path string, pl *planned) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // it holds the desired objects, secrets too
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := plan.Save(f, &plan.Saved{Version: 1, Plan: pl.plan, Seen: pl.seen, Dir: pl.dir}); err != nil {
		f.Close()
		return fmt.Errorf("-out %s: %w", path, err)
	}
	return f.Close()
}

// makePlan loads the manifests, checks them with the API's own
// validation, reads the live objects and computes the plan.
func makePlan(ctx context.Context, g *globals, dir string, o *planOptions) (*planned, error) {
	vars, err := parseVars(o.vars)
	if err != nil {
		return nil, err
	}
	set, err := manifests.Load(ctx, dir, vars)
	if err != nil {
		return nil, err
	}
	setName, err := manifestSetName(dir, o.set)
	if err != nil {
		return nil, err
	}
	defaulted, err := validateManifests(set)
	if err != nil {
		return nil, err
	}
	for _, t := range o.targets {
		if !slices.ContainsFunc(set.Resources, func(r plan.Resource) bool { return r.Address == t }) && !strings.Contains(t, ".") {
			return nil, fmt.Errorf("-target %q: an address is kind.name, e.g. deployment.web", t)
		}
	}
	c, err := g.client()
	if err != nil {
		return nil, fmt.Errorf("the manifests are valid, but the cluster cannot be reached to compare with: %w", err)
	}
	live, err := readLive(ctx, c, set, setName)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster: %w", err)
	}
	desired, actual, seen, err := pairUp(set, defaulted, live, setName)
	if err != nil {
		return nil, err
	}
	targets := targetsWithDeps(set, o.targets)
	if extra := slices.DeleteFunc(slices.Clone(targets), func(a string) bool { return slices.Contains(o.targets, a) }); len(extra) > 0 {
		fmt.Fprintf(g.errOut, "Warning: resource targeting is in effect; the targets depend on %s, which the plan covers too.\n",
			strings.Join(extra, ", "))
	}
	desired, actual = filterTargets(desired, actual, targets)
	opts := plan.Options{ForceNew: map[string][]string{}, Sensitive: map[string][]string{}, Autoscaled: live.autoscaled, Prune: true}
	for _, k := range schema.Kinds() {
		opts.ForceNew[schema.APIKind(k)] = schema.ForceNew(k)
		opts.Sensitive[schema.APIKind(k)] = schema.Sensitive(k)
	}
	opts.Previews = previews(ctx, c, desired, actual)
	p := plan.Compute(desired, actual, opts)
	if err := replaceWithNew(p, set); err != nil {
		return nil, err
	}
	for a := range seen {
		if !slices.ContainsFunc(p.Changes, func(ch plan.Change) bool { return ch.Address == a }) {
			delete(seen, a) // filtered out by -target
		}
	}
	rollouts, err := rolloutSettings(set)
	if err != nil {
		return nil, err
	}
	return &planned{plan: p, previews: opts.Previews, rollouts: rollouts, seen: seen, dir: dir, setName: setName}, nil
}

// replaceWithNew makes a replacement write the manifest's object, not the
// update of the live one pairUp prepared (for a pod, the live pod with new
// images). It keeps the live generation, which apply checks before
// deleting.
func replaceWithNew(p *plan.Plan, set *manifests.Set) error {
	for i := range p.Changes {
		ch := &p.Changes[i]
		if ch.Action != plan.Replace || ch.Desired == nil {
			continue
		}
		idx := slices.IndexFunc(set.Resources, func(r plan.Resource) bool { return r.Address == ch.Address })
		if idx < 0 {
			continue
		}
		fresh, err := convert.Copy(set.Resources[idx].Object)
		if err != nil {
			return err
		}
		fresh.GetObjectMeta().Generation = ch.Desired.GetObjectMeta().Generation
		ch.Desired = fresh
	}
	return nil
}

// rolloutSettings reads the deployments' wait_for_rollout,
// unschedulable_timeout and crash_loop_restarts.
func rolloutSettings(set *manifests.Set) (map[string]*client.RolloutOptions, error) {
	out := map[string]*client.RolloutOptions{}
	for _, r := range set.Resources {
		if r.Kind != "Deployment" {
			continue
		}
		if w, ok := r.Attrs["wait_for_rollout"].(bool); ok && !w {
			out[r.Address] = nil
			continue
		}
		opts := client.DefaultRolloutOptions()
		if s, ok := r.Attrs["unschedulable_timeout"].(string); ok {
			d, err := time.ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: unschedulable_timeout %q: %v", set.Where(r.Address, "unschedulable_timeout"), r.Address, s, err)
			}
			opts.UnschedulableTimeout = d
		}
		if n, ok := r.Attrs["crash_loop_restarts"].(int64); ok {
			opts.CrashLoopRestarts = int32(n)
		}
		out[r.Address] = &opts
	}
	return out, nil
}

// parseVars reads -var NAME=VALUE flags.
func parseVars(vs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vs {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-var %q: must be NAME=VALUE", v)
		}
		out[k] = val
	}
	return out, nil
}

// manifestSetName is -set, or the directory's base name; it must be a
// valid label value (it labels every object).
func manifestSetName(dir, flag string) (string, error) {
	name := flag
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		name = filepath.Base(abs)
	}
	if errs := api.ValidateLabels(map[string]string{LabelManifestSet: name}, api.NewPath("set")); len(errs) > 0 {
		return "", fmt.Errorf("manifest set name %q cannot be a label value (%s): choose one with -set", name, errs[0].Detail)
	}
	return name, nil
}

// validateManifests runs the API's validation on every object, as the
// server would, and names the file, line and attribute of each problem.
// It returns the objects defaulted as the server would store them, by
// address.
func validateManifests(set *manifests.Set) (map[string]api.Object, error) {
	var lines []string
	defaulted := map[string]api.Object{}
	for _, r := range set.Resources {
		kind := manifests.Kind(r.Address)
		obj, err := convert.FromAttrs(kind, r.Attrs) // a fresh copy (cheaper than a deep copy)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Address, err)
		}
		api.Default(obj)
		defaulted[r.Address] = obj
		for _, fe := range api.Validate(obj) {
			attr := fieldpath.String(fieldpath.AttrPath(api.KindOf(obj).Kind, fe.Field))
			lines = append(lines, fmt.Sprintf("%s: %s: %s: %s", set.Where(r.Address, attr), r.Address, attr, fe.Detail))
		}
	}
	if len(lines) > 0 {
		return nil, fmt.Errorf("the manifests are invalid (the API server would refuse them):\n  %s", strings.Join(lines, "\n  "))
	}
	return defaulted, nil
}

// liveState is what the cluster has that the plan needs.
type liveState struct {
	// objects by "Kind/namespace/name".
	objects map[string]api.Object
	// owned are the objects labelled with this manifest set.
	owned []api.Object
	// autoscaled deployments, by address.
	autoscaled map[string]bool
	// namespaces that exist.
	namespaces map[string]bool
}

func objKey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// readLive reads what the plan compares with, in one list request per
// kind, made concurrently: every object of the kinds the manifests use
// (pods only in the manifests' namespaces: there are many), and of the
// other kinds those labelled with the set (for deletion).
func readLive(ctx context.Context, c *client.Client, set *manifests.Set, setName string) (*liveState, error) {
	st := &liveState{objects: map[string]api.Object{}, autoscaled: map[string]bool{}, namespaces: map[string]bool{}}
	type query struct {
		kind, ns string
		owned    bool // by label: only this set's objects
	}
	used := map[string]bool{"Namespace": true}
	podNamespaces := map[string]bool{}
	for _, r := range set.Resources {
		used[r.Kind] = true
		if r.Kind == "Deployment" {
			used["Autoscaler"] = true
		}
		if r.Kind == "Pod" {
			podNamespaces[r.Namespace] = true
		}
	}
	var queries []query
	for _, k := range schema.Kinds() {
		kind := schema.APIKind(k)
		switch {
		case kind == "Pod" && used[kind]:
			for ns := range podNamespaces {
				queries = append(queries, query{kind: kind, ns: ns})
			}
			queries = append(queries, query{kind: kind, owned: true})
		case used[kind]:
			queries = append(queries, query{kind: kind})
		default:
			queries = append(queries, query{kind: kind, owned: true})
		}
	}
	results := make([][]api.Object, len(queries))
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, err := api.LookupKind(q.kind)
			if err != nil {
				errs[i] = err
				return
			}
			opts := client.ListOptions{}
			if q.owned {
				opts.LabelSelector = LabelManifestSet + "=" + setName
			}
			results[i], _, errs[i] = client.Dynamic(c, info, q.ns).List(ctx, opts)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("listing %s: %w", info.Plural, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, q := range queries {
		for _, o := range results[i] {
			m := o.GetObjectMeta()
			if m.Labels[LabelManifestSet] == setName && (q.owned || q.kind != "Pod") { // pods: from their owned query
				st.owned = append(st.owned, o)
			}
			if !q.owned {
				st.objects[objKey(q.kind, m.Namespace, m.Name)] = o
			}
		}
	}
	targets := map[string]bool{} // deployments an autoscaler scales, by objKey
	for _, o := range st.objects {
		switch o := o.(type) {
		case *api.Namespace:
			if o.DeletionTimestamp == nil {
				st.namespaces[o.Name] = true
			}
		case *api.Autoscaler:
			if o.Spec.ScaleTargetRef.Kind == "Deployment" {
				targets[objKey("Deployment", o.Namespace, o.Spec.ScaleTargetRef.Name)] = true
			}
		}
	}
	for _, r := range set.Resources { // autoscalers the manifests add count already
		if a, ok := r.Object.(*api.Autoscaler); ok && a.Spec.ScaleTargetRef.Kind != "ReplicaSet" {
			targets[objKey("Deployment", a.Namespace, a.Spec.ScaleTargetRef.Name)] = true
		}
	}
	for _, r := range set.Resources {
		if targets[objKey(r.Kind, r.Namespace, r.Name)] {
			st.autoscaled[r.Address] = true
		}
	}
	return st, nil
}

// pairUp builds the plan's two sides: the manifests' objects (labelled
// with the set; over a live object, ForUpdate of it) and the live ones,
// their attribute trees normalised and aligned. seen is the
// resourceVersion of every address ("" when absent).
func pairUp(set *manifests.Set, defaulted map[string]api.Object, live *liveState, setName string) (desired, actual []plan.Resource, seen map[string]string, err error) {
	seen = map[string]string{}
	inSet := map[string]bool{}
	for _, r := range set.Resources {
		kind := manifests.Kind(r.Address)
		inSet[r.Address] = true
		obj := r.Object
		applied := convert.AppliedOf(obj.GetObjectMeta())
		if err := tagObject(obj.GetObjectMeta(), setName, r.Address, applied); err != nil {
			return nil, nil, nil, err
		}
		want, err := convert.ToAttrs(kind, defaulted[r.Address])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", r.Address, err)
		}
		d := plan.Resource{Address: r.Address, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Attrs: want, Object: obj}
		l := live.objects[objKey(r.Kind, r.Namespace, r.Name)]
		if l == nil {
			convert.Align(kind, r.Attrs, want, nil, convert.Applied{})
			seen[r.Address] = ""
			desired = append(desired, d)
			continue
		}
		have, err := convert.ToAttrs(kind, l) // the server stored it defaulted
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s (live): %w", r.Address, err)
		}
		before := lastApplied(l.GetObjectMeta())
		convert.Align(kind, r.Attrs, want, have, before)
		if d.Object, err = convert.ForUpdate(kind, obj, l, live.autoscaled[r.Address], before); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", r.Address, err)
		}
		seen[r.Address] = strconv.FormatInt(l.GetObjectMeta().ResourceVersion, 10)
		desired = append(desired, d)
		actual = append(actual, plan.Resource{Address: r.Address, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Attrs: have, Object: l})
	}
	for _, o := range live.owned {
		m := o.GetObjectMeta()
		kindInfo := api.KindOf(o)
		kind := schema.KindOfAPI(kindInfo.Kind)
		addr := m.Annotations[AnnotationManifestAddr]
		if addr == "" {
			addr = kind + "." + m.Name
		}
		if inSet[addr] || m.Annotations[AnnotationManifestSet] != setName || m.DeletionTimestamp != nil {
			continue
		}
		have, err := convert.ToAttrs(kind, o)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s (live): %w", addr, err)
		}
		seen[addr] = strconv.FormatInt(m.ResourceVersion, 10)
		actual = append(actual, plan.Resource{Address: addr, Kind: kindInfo.Kind, Namespace: m.Namespace, Name: m.Name, Attrs: have, Object: o})
	}
	return desired, actual, seen, nil
}

// tagObject labels and annotates an object with its manifest set, its
// address and the label and annotation keys its manifest names.
func tagObject(m *api.ObjectMeta, setName, address string, applied convert.Applied) error {
	keys, err := json.Marshal(applied)
	if err != nil {
		return fmt.Errorf("%s: recording its keys: %w", address, err)
	}
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Labels[LabelManifestSet] = setName
	m.Annotations[AnnotationManifestSet] = setName
	m.Annotations[AnnotationManifestAddr] = address
	m.Annotations[AnnotationManifestKeys] = string(keys)
	return nil
}

// lastApplied is what the last apply recorded of the keys it wrote
// (none for an object applied before they were recorded, or by hand; an
// unreadable record counts as none: keys are then only ever added).
func lastApplied(m *api.ObjectMeta) convert.Applied {
	var a convert.Applied
	if s := m.Annotations[AnnotationManifestKeys]; s != "" {
		if json.Unmarshal([]byte(s), &a) != nil {
			return convert.Applied{}
		}
	}
	return a
}

// targetsWithDeps is the -target addresses and, as with Terraform's
// -target, what they depend on in the manifests (and their namespaces):
// targeting a deployment in a new namespace creates the namespace too.
// An address no manifest declares stays, so that a removed object can
// be targeted for deletion.
func targetsWithDeps(set *manifests.Set, targets []string) []string {
	if len(targets) == 0 {
		return nil
	}
	return set.WithDeps(targets)
}

// filterTargets keeps only the -target addresses (all without targets).
func filterTargets(desired, actual []plan.Resource, targets []string) ([]plan.Resource, []plan.Resource) {
	if len(targets) == 0 {
		return desired, actual
	}
	keep := func(rs []plan.Resource) []plan.Resource {
		return slices.DeleteFunc(rs, func(r plan.Resource) bool { return !slices.Contains(targets, r.Address) })
	}
	return keep(desired), keep(actual)
}

// previews asks the server, with dry-run writes, where the pods of every
// new or changed workload would go; for a new one in a namespace the plan
// also creates, the server previews it as if the namespace existed
// (NamespaceMayBeNew). A preview that fails is left out: it never fails
// the plan.
func previews(ctx context.Context, c *client.Client, desired, actual []plan.Resource) map[string]api.PlacementPreview {
	before := map[string]plan.Resource{}
	for _, a := range actual {
		before[a.Address] = a
	}
	out := map[string]api.PlacementPreview{}
	for _, d := range desired {
		if d.Kind != "Deployment" && d.Kind != "Pod" {
			continue
		}
		a, exists := before[d.Address]
		if exists && (d.Kind == "Pod" || reflect.DeepEqual(a.Attrs, d.Attrs)) {
			continue // unchanged; a pod's replacement would be previewed beside itself
		}
		obj, err := convert.Copy(d.Object) // the write decodes the answer into it
		if err != nil {
			continue
		}
		var prev api.PlacementPreview
		res := client.Dynamic(c, api.KindOf(obj), d.Namespace)
		if exists {
			_, err = res.Update(ctx, obj, client.WriteOptions{DryRun: true, Placement: &prev})
		} else {
			_, err = res.Create(ctx, obj, client.WriteOptions{DryRun: true, NamespaceMayBeNew: true, Placement: &prev})
		}
		if err == nil && prev.Pods > 0 {
			out[d.Address] = prev
		}
	}
	return out
}
