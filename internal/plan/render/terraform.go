package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/maestro-dev/maestro/internal/plan"
)

// kinds maps the provider's resource types to API kinds.
var kinds = map[string]string{
	"maestro_namespace": "Namespace", "maestro_config_map": "ConfigMap", "maestro_secret": "Secret",
	"maestro_deployment": "Deployment", "maestro_service": "Service", "maestro_pod": "Pod",
	"maestro_volume": "Volume", "maestro_autoscaler": "Autoscaler", "maestro_node_pool": "NodePool",
}

// FromTerraformJSON reads the output of `terraform show -json PLANFILE`
// into a Plan: every managed resource's change with its attribute trees
// (values known only after the apply become plan.Unknown), its sensitive
// paths and replace paths, and the impact of the maestro_* changes
// computed from the trees, so Markdown gives a Terraform plan the same
// comment as a `maestro plan`. Deployments an autoscaler in the same
// configuration targets keep their replicas.
func FromTerraformJSON(r io.Reader) (*plan.Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the terraform plan: %w", err)
	}
	var tp tfjson.Plan
	tp.UseJSONNumber(true)
	if err := tp.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("reading the terraform plan (the output of `terraform show -json PLANFILE`): %w", err)
	}
	if tp.PlannedValues == nil && len(tp.ResourceChanges) == 0 {
		return nil, fmt.Errorf("reading the terraform plan: no resource_changes: is this `terraform show -json` of a plan file (not of the state)?")
	}
	p := &plan.Plan{}
	if t, err := time.Parse(time.RFC3339, tp.Timestamp); err == nil {
		p.Created = t
	}
	for _, rc := range tp.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode || rc.Change == nil {
			continue
		}
		c, ok, err := changeFrom(rc)
		if err != nil {
			return nil, err
		}
		if !ok {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s: not shown (only create, update, replace and delete are)", rc.Address, actionWords(rc.Change.Actions)))
			continue
		}
		p.Changes = append(p.Changes, c)
	}
	for _, d := range tp.DeferredChanges {
		if d.ResourceChange != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: deferred (%s): a later plan will show it", d.ResourceChange.Address, d.Reason))
		}
	}
	slices.SortFunc(p.Changes, func(a, b plan.Change) int { return strings.Compare(a.Address, b.Address) })
	plan.Assess(p, plan.Options{Autoscaled: autoscaled(p)})
	return p, nil
}

// changeFrom converts one resource change; ok is false for actions a
// Plan does not hold (read, forget).
func changeFrom(rc *tfjson.ResourceChange) (plan.Change, bool, error) {
	ch := rc.Change
	c := plan.Change{Address: rc.Address, Kind: kinds[rc.Type]}
	switch a := ch.Actions; {
	case a.NoOp():
		c.Action = plan.NoOp
	case a.Create():
		c.Action = plan.Create
	case a.Update():
		c.Action = plan.Update
	case a.Replace():
		c.Action = plan.Replace
	case a.Delete():
		c.Action = plan.Delete
	default:
		return c, false, nil
	}
	var err error
	if c.Before, err = tree(ch.Before, rc.Address, "before"); err != nil {
		return c, false, err
	}
	if c.After, err = tree(ch.After, rc.Address, "after"); err != nil {
		return c, false, err
	}
	if c.After != nil {
		markUnknown(c.After, nil, ch.AfterUnknown)
	}
	for _, marks := range []any{ch.BeforeSensitive, ch.AfterSensitive} {
		for _, s := range markedPaths("", marks) {
			if !slices.Contains(c.Sensitive, s) {
				c.Sensitive = append(c.Sensitive, s)
			}
		}
	}
	c.Sensitive = plan.SensitivePaths(c.Kind, c.Sensitive)
	slices.Sort(c.Sensitive)
	for _, rp := range ch.ReplacePaths {
		steps, _ := rp.([]any)
		var names []string
		for _, s := range steps {
			if n, ok := s.(string); ok {
				names = append(names, n)
			}
		}
		if p := strings.Join(names, "."); p != "" && !slices.Contains(c.ReplacePaths, p) {
			c.ReplacePaths = append(c.ReplacePaths, p)
		}
	}
	if c.Action == plan.Replace && len(c.ReplacePaths) == 0 {
		c.ReplacePaths = nil // replaced on request (-replace=ADDR): nothing forced it
	}
	t := c.After
	if t == nil {
		t = c.Before
	}
	c.Namespace, c.Name = identity(t, rc.Name)
	return c, true, nil
}

// tree takes a before/after value as an attribute tree.
func tree(v any, addr, which string) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("reading the terraform plan: %s: change.%s: an object expected, got %T", addr, which, v)
	}
	return m, nil
}

// identity finds an object's namespace and name in its tree: in the
// metadata block, or at the top in plans made with a provider from before
// namespace, config map, secret and autoscaler had the metadata block.
func identity(t map[string]any, fallback string) (namespace, name string) {
	namespace, _ = plan.Lookup(t, "metadata.namespace").(string)
	name, _ = plan.Lookup(t, "metadata.name").(string)
	if namespace == "" {
		namespace, _ = t["namespace"].(string)
	}
	if name == "" {
		name, _ = t["name"].(string)
	}
	if name == "" {
		name = fallback
	}
	return namespace, name
}

// markUnknown puts plan.Unknown where after_unknown marks a value.
func markUnknown(t any, parent func(any), marks any) {
	switch m := marks.(type) {
	case bool:
		if m && parent != nil {
			parent(plan.Unknown)
		}
	case map[string]any:
		obj, ok := t.(map[string]any)
		if !ok {
			return
		}
		for k, e := range m {
			markUnknown(obj[k], func(v any) { obj[k] = v }, e)
		}
	case []any:
		list, ok := t.([]any)
		if !ok {
			return
		}
		for i, e := range m {
			if i < len(list) {
				markUnknown(list[i], func(v any) { list[i] = v }, e)
			}
		}
	}
}

// markedPaths lists the attribute paths a sensitive-marks tree sets.
func markedPaths(path string, marks any) []string {
	switch m := marks.(type) {
	case bool:
		if m && path != "" {
			return []string{plan.AttrPath(path)}
		}
	case map[string]any:
		var out []string
		for k, e := range m {
			out = append(out, markedPaths(plan.Join(path, k), e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range m {
			out = append(out, markedPaths(path, e)...)
		}
		return out
	}
	return nil
}

// autoscaled finds the deployments a maestro_autoscaler of the plan
// targets (their replicas are the autoscaler's).
func autoscaled(p *plan.Plan) map[string]bool {
	out := map[string]bool{}
	for _, a := range p.Changes {
		if a.Kind != "Autoscaler" || a.After == nil {
			continue
		}
		kind, _ := plan.Lookup(a.After, "spec.target.kind").(string)
		name, _ := plan.Lookup(a.After, "spec.target.name").(string)
		if name == "" { // a plan made before the autoscaler had its spec block
			kind, _ = plan.Lookup(a.After, "target.kind").(string)
			name, _ = plan.Lookup(a.After, "target.name").(string)
		}
		if kind != "" && kind != "Deployment" {
			continue
		}
		for _, d := range p.Changes {
			if d.Kind == "Deployment" && d.Namespace == a.Namespace && d.Name == name {
				out[d.Address] = true
			}
		}
	}
	return out
}

func actionWords(a tfjson.Actions) string {
	b, _ := json.Marshal(a)
	return string(b)
}
