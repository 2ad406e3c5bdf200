package provider

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

// Plan warnings that say what an apply does to running pods and machines.
// The rules are internal/plan's (mplan.ChangeImpact), the ones `maestro
// plan` and `maestro plan render` apply, so a Terraform plan and a CLI
// plan of the same change say the same thing. The provider hands them
// one resource's change: its action, the prior and planned attribute
// trees (from the raw state and plan) and API objects.

// resourceChange is one resource's change as internal/plan sees it.
// state or plan may be a null value (create, destroy); live and desired
// the API objects behind them (nil when there is none).
func resourceChange(kind string, action mplan.Action, state, plan tftypes.Value, live, desired api.Object) *mplan.Change {
	return &mplan.Change{Kind: kind, Action: action, Before: attrTree(state), After: attrTree(plan), Live: live, Desired: desired}
}

// warnImpact adds the plan warning "Impact: <type> <id>" whose detail is
// one impact sentence per line (and then more, when given); nothing when
// the change does nothing to pods or machines.
func warnImpact(diags *diag.Diagnostics, tfType, id string, lines []string, more string) {
	if len(lines) == 0 {
		return
	}
	detail := strings.Join(lines, "\n")
	if more != "" {
		detail += "\n\n" + more
	}
	diags.AddWarning("Impact: "+tfType+" "+id, detail)
}

// objectID is "namespace/name" of a metadata block, "" when unknown.
func objectID(md *metadataModel) string {
	if md == nil || md.Name.IsUnknown() || md.Namespace.IsUnknown() {
		return ""
	}
	return md.Namespace.ValueString() + "/" + md.Name.ValueString()
}

// identityChanged reports whether the planned metadata names another
// object than the state's (name and namespace force replacement).
func identityChanged(plan, state *metadataModel) bool {
	if plan == nil || state == nil {
		return false
	}
	return !plan.Name.Equal(state.Name) || !plan.Namespace.Equal(state.Namespace)
}

// attrTree turns a resource's raw value (state or plan) into an attribute
// tree (see mplan.Change); nil for a null value.
func attrTree(v tftypes.Value) map[string]any {
	t, _ := treeValue(v).(map[string]any)
	return t
}

// treeValue is one value of an attribute tree: blocks and objects become
// maps, lists, sets and tuples slices, numbers json.Number, and a value
// known only after the apply mplan.Unknown.
func treeValue(v tftypes.Value) any {
	switch {
	case v.IsNull():
		return nil
	case !v.IsKnown():
		return mplan.Unknown
	}
	switch t := v.Type(); {
	case t.Is(tftypes.Object{}), t.Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		if v.As(&m) != nil {
			return nil
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = treeValue(e)
		}
		return out
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		var l []tftypes.Value
		if v.As(&l) != nil {
			return nil
		}
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = treeValue(e)
		}
		return out
	case t.Is(tftypes.String):
		var s string
		_ = v.As(&s)
		return s
	case t.Is(tftypes.Bool):
		var b bool
		_ = v.As(&b)
		return b
	case t.Is(tftypes.Number):
		f := new(big.Float)
		if v.As(&f) != nil {
			return nil
		}
		if f.IsInt() {
			i, _ := f.Int(nil)
			return json.Number(i.String())
		}
		return json.Number(f.Text('g', -1))
	}
	return nil
}

// int64Differs reports whether two known numbers differ.
func int64Differs(a, b types.Int64) bool {
	return !a.IsUnknown() && !b.IsUnknown() && !a.Equal(b)
}

// logImpactSkipped records why a plan shows less impact than it could.
func logImpactSkipped(ctx context.Context, kind, why string, err error) {
	tflog.Debug(ctx, "impact: "+why, map[string]any{"kind": kind, "error": err.Error()})
}
