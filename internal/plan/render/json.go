package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/maestro-dev/maestro/internal/plan"
)

// FormatVersion is the `terraform show -json` plan format JSON writes.
const FormatVersion = "1.2"

// ProviderName is the provider address JSON gives maestro's resources.
const ProviderName = "registry.terraform.io/maestro-dev/maestro"

// JSON writes the plan in the shape of `terraform show -json` (tfjson.Plan),
// so policy tools that read Terraform plans read it: one resource change
// per object with its actions, before and after trees and replace paths,
// and the planned values of every object that remains.
// Sensitive values are left out of before/after (null) and marked in
// before_sensitive/after_sensitive; values known only after the apply are
// marked in after_unknown. The impact, warnings and hash go in a "maestro"
// object, which Terraform's readers ignore.
func JSON(w io.Writer, p *plan.Plan) error {
	out := tfjson.Plan{FormatVersion: FormatVersion, ResourceChanges: []*tfjson.ResourceChange{}}
	if !p.Created.IsZero() {
		out.Timestamp = p.Created.UTC().Format(time.RFC3339)
	}
	out.PlannedValues = &tfjson.StateValues{RootModule: &tfjson.StateModule{}}
	for i := range p.Changes {
		rc := resourceChange(&p.Changes[i])
		out.ResourceChanges = append(out.ResourceChanges, rc)
		if after, ok := rc.Change.After.(map[string]any); ok {
			sens, _ := json.Marshal(rc.Change.AfterSensitive)
			out.PlannedValues.RootModule.Resources = append(out.PlannedValues.RootModule.Resources, &tfjson.StateResource{
				Address: rc.Address, Mode: rc.Mode, Type: rc.Type, Name: rc.Name, ProviderName: rc.ProviderName,
				AttributeValues: after, SensitiveValues: sens})
		}
	}
	doc := struct {
		*tfjson.Plan
		Maestro extension `json:"maestro"`
	}{&out, extension{Hash: p.Hash(), Impact: impactLines(p, func(s string) string { return s }), Warnings: p.Warnings}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing the plan as JSON: %w", err)
	}
	return nil
}

// extension is what maestro adds to Terraform's plan format.
type extension struct {
	Hash     string   `json:"hash"`
	Impact   []string `json:"impact,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func resourceChange(c *plan.Change) *tfjson.ResourceChange {
	typ, name := splitAddress(c.Address)
	ch := &tfjson.Change{Actions: actions(c.Action)}
	if c.Before != nil {
		v, sens, _ := split(c, "", c.Before)
		ch.Before, ch.BeforeSensitive = v, orFalse(sens)
	} else {
		ch.BeforeSensitive = false
	}
	if c.After != nil {
		v, sens, unknown := split(c, "", c.After)
		ch.After, ch.AfterSensitive, ch.AfterUnknown = v, orFalse(sens), orFalse(unknown)
	} else {
		ch.AfterUnknown, ch.AfterSensitive = map[string]any{}, false
	}
	for _, rp := range c.ReplacePaths {
		var steps []any
		for _, s := range strings.Split(rp, ".") {
			steps = append(steps, s)
		}
		ch.ReplacePaths = append(ch.ReplacePaths, steps)
	}
	return &tfjson.ResourceChange{Address: c.Address, Mode: tfjson.ManagedResourceMode, Type: typ, Name: name,
		ProviderName: ProviderName, Change: ch}
}

func actions(a plan.Action) tfjson.Actions {
	switch a {
	case plan.Create:
		return tfjson.Actions{tfjson.ActionCreate}
	case plan.Update:
		return tfjson.Actions{tfjson.ActionUpdate}
	case plan.Replace:
		return tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}
	case plan.Delete:
		return tfjson.Actions{tfjson.ActionDelete}
	}
	return tfjson.Actions{tfjson.ActionNoop}
}

// split separates a tree into the values JSON may show, the sensitive
// marks and the unknown marks (Terraform's three parallel trees); a mark
// tree is nil when nothing is marked.
func split(c *plan.Change, path string, v any) (value, sensitive, unknown any) {
	if path != "" && c.IsSensitive(path) && !plan.Absent(v) {
		return nil, true, nil
	}
	switch x := v.(type) {
	case string:
		if x == plan.Unknown {
			return nil, nil, true
		}
	case map[string]any:
		vals, sens, unk := map[string]any{}, map[string]any{}, map[string]any{}
		for k, e := range x {
			vals[k], sens[k], unk[k] = split(c, plan.Join(path, k), e)
			if sens[k] == nil {
				delete(sens, k)
			}
			if unk[k] == nil {
				delete(unk, k)
			}
		}
		return vals, nilIfEmpty(sens), nilIfEmpty(unk)
	case []any:
		vals, sens, unk := make([]any, len(x)), make([]any, len(x)), make([]any, len(x))
		anySens, anyUnk := false, false
		for i, e := range x {
			vals[i], sens[i], unk[i] = split(c, path+"["+strconv.Itoa(i)+"]", e)
			anySens, anyUnk = anySens || sens[i] != nil, anyUnk || unk[i] != nil
		}
		if !anySens {
			sens = nil
		}
		if !anyUnk {
			unk = nil
		}
		return vals, listMarks(sens), listMarks(unk)
	}
	return v, nil, nil
}

// listMarks fills the gaps of a list's mark tree with false, as
// Terraform does; nil stays nil.
func listMarks(l []any) any {
	if l == nil {
		return nil
	}
	for i, e := range l {
		if e == nil {
			l[i] = false
		}
	}
	return l
}

func nilIfEmpty(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// orFalse: an object with no marks is {} in Terraform's output.
func orFalse(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}
