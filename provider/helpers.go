package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

func pathRoot(name string) path.Path { return path.Root(name) }

// systemKey reports whether a label or annotation key belongs to maestro
// itself (e.g. deployment.maestro.dev/revision); such keys are never
// imported into state.
func systemKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	return ok && (prefix == "maestro.dev" || strings.HasSuffix(prefix, ".maestro.dev"))
}

// trackedMap is the state value of a labels or annotations map: the keys
// the prior state tracked, with the values the server has now. With no
// prior (import), it takes every key that is not maestro's own. Keys the
// server or other tools add are therefore never a diff, while a tracked
// key changed or removed outside Terraform is.
func trackedMap(ctx context.Context, prior types.Map, actual map[string]string, importing bool) (types.Map, diag.Diagnostics) {
	out := map[string]string{}
	switch {
	case importing:
		for k, v := range actual {
			if !systemKey(k) {
				out[k] = v
			}
		}
		if len(out) == 0 {
			return types.MapNull(types.StringType), nil
		}
	case prior.IsNull() || prior.IsUnknown():
		return types.MapNull(types.StringType), nil
	default:
		for k := range prior.Elements() {
			if v, ok := actual[k]; ok {
				out[k] = v
			}
		}
	}
	return types.MapValueFrom(ctx, types.StringType, out)
}

// mergeTracked applies the planned keys to the live map: it sets every
// planned key and drops keys the prior state tracked that the plan no
// longer has; keys nobody tracked are kept.
func mergeTracked(ctx context.Context, live map[string]string, prior, planned types.Map) (map[string]string, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := map[string]string{}
	for k, v := range live {
		out[k] = v
	}
	want := stringMap(ctx, planned, &diags)
	for k := range stringMap(ctx, prior, &diags) {
		if _, ok := want[k]; !ok {
			delete(out, k)
		}
	}
	for k, v := range want {
		out[k] = v
	}
	if len(out) == 0 {
		return nil, diags
	}
	return out, diags
}

// stringMap converts a Terraform map of strings (null: nil).
func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// stringList converts a Terraform list of strings (null: nil).
func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

// listOrNull is a Terraform list of strings, null when empty.
func listOrNull(ctx context.Context, s []string, diags *diag.Diagnostics) types.List {
	if len(s) == 0 {
		return types.ListNull(types.StringType)
	}
	l, d := types.ListValueFrom(ctx, types.StringType, s)
	diags.Append(d...)
	return l
}

// mapOrNull is a Terraform map of strings, null when empty.
func mapOrNull(ctx context.Context, m map[string]string, diags *diag.Diagnostics) types.Map {
	if len(m) == 0 {
		return types.MapNull(types.StringType)
	}
	v, d := types.MapValueFrom(ctx, types.StringType, m)
	diags.Append(d...)
	return v
}

// apiError adds a diagnostic for a failed API call, with advice matched
// to the kind of failure.
func apiError(diags *diag.Diagnostics, summary string, err error) {
	detail := err.Error()
	switch api.ReasonOf(err) {
	case api.ReasonInvalid:
		detail += "\n\nThe API server rejected the object; fix the fields named above."
	case api.ReasonConflict:
		detail += "\n\nThe object changed while Terraform was writing it; run terraform apply again."
	case api.ReasonAlreadyExists:
		detail += "\n\nAn object with this name already exists; import it with terraform import, or choose another name."
	case api.ReasonForbidden, api.ReasonUnauthorized:
		detail += "\n\nCheck that the provider's token is valid and has a role allowed to do this."
	}
	diags.AddError(summary, detail)
}

// waitGone polls get until it reports NotFound, for objects whose delete
// finishes asynchronously (finalizers, namespaces).
func waitGone(ctx context.Context, timeout time.Duration, get func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := get(ctx)
		if api.IsNotFound(err) {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still present after %s", timeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// splitID parses an import ID of the form namespace/name.
func splitID(id string) (namespace, name string, err error) {
	ns, n, ok := strings.Cut(id, "/")
	if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
		return "", "", fmt.Errorf("expected an import ID of the form namespace/name, got %q", id)
	}
	return ns, n, nil
}

// nullTimeouts is an unset timeouts block (create, update and delete),
// for import.
func nullTimeouts() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{
		"create": types.StringType, "update": types.StringType, "delete": types.StringType,
	})}
}

// diagErr turns error diagnostics into an error (nil without errors).
func diagErr(diags diag.Diagnostics) error {
	if !diags.HasError() {
		return nil
	}
	var msgs []string
	for _, d := range diags.Errors() {
		msgs = append(msgs, d.Summary()+": "+d.Detail())
	}
	return errors.New(strings.Join(msgs, "; "))
}
