package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/planrules"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// Every case of internal/planrules is refused twice with the API's
// message: by the resource's ValidateConfig (what `terraform plan` runs,
// TestPlanCatchesWhatTheServerWould in internal/tfe2e runs the real
// terraform), on the attribute the case names; and by an in-process API
// server sent the object the provider would write, at the field that maps
// to that attribute. So the table cannot drift from the server.
func TestPlanRulesMatchTheServer(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	for _, c := range planrules.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r, config := manifestConfig(t, c.Manifest)

			var resp resource.ValidateConfigResponse
			r.(resource.ResourceWithValidateConfig).ValidateConfig(ctx, resource.ValidateConfigRequest{Config: config}, &resp)
			if !hasError(resp.Diagnostics, c.WantAttr, c.WantText) {
				t.Errorf("ValidateConfig has no error at %s with %q; got:\n%s", c.WantAttr, c.WantText, diagText(resp.Diagnostics))
			}

			obj, d := objectOf(ctx, r, config)
			if d.HasError() {
				t.Fatalf("expanding the configuration: %s", diagText(d))
			}
			_, err := client.Dynamic(env.Client, api.KindOf(obj), obj.GetObjectMeta().Namespace).Create(ctx, obj)
			var se *api.StatusError
			if !errors.As(err, &se) || !api.IsInvalid(err) || se.Status.Details == nil {
				t.Fatalf("the API server did not refuse the object as invalid: %v", err)
			}
			found := false
			for _, cause := range se.Status.Details.Causes {
				at := attrPathOf(api.KindOf(obj).Kind, cause.Field).String()
				found = found || at == c.WantAttr && strings.Contains(cause.Detail, c.WantText)
			}
			if !found {
				t.Errorf("the API server's refusal has no cause at %s with %q: %v", c.WantAttr, c.WantText, err)
			}
		})
	}
}

func hasError(diags diag.Diagnostics, attr, text string) bool {
	for _, d := range diags.Errors() {
		if wp, ok := d.(diag.DiagnosticWithPath); ok && wp.Path().String() == attr && strings.Contains(d.Detail(), text) {
			return true
		}
	}
	return false
}

func diagText(diags diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		at := ""
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			at = wp.Path().String() + ": "
		}
		fmt.Fprintf(&b, "  %s%s: %s\n", at, d.Summary(), d.Detail())
	}
	return b.String()
}

// objectOf is the object Create would write for the configuration.
func objectOf(ctx context.Context, r resource.Resource, config tfsdk.Config) (api.Object, diag.Diagnostics) {
	switch r := r.(type) {
	case *DeploymentResource:
		return expandConfig(ctx, &r.crud, config)
	case *PodResource:
		return expandConfig(ctx, &r.crud, config)
	case *ServiceResource:
		return expandConfig(ctx, &r.crud, config)
	case *ConfigMapResource:
		return expandConfig(ctx, &r.crud, config)
	case *SecretResource:
		return expandConfig(ctx, &r.crud, config)
	case *NamespaceResource:
		return expandConfig(ctx, &r.crud, config)
	case *AutoscalerResource:
		return expandConfig(ctx, &r.crud, config)
	case *VolumeResource:
		return expandConfig(ctx, &r.crud, config)
	}
	var d diag.Diagnostics
	d.AddError("no API object", fmt.Sprintf("%T", r))
	return nil, d
}

func expandConfig[T api.Object, M any](ctx context.Context, r *crud[T, M], config tfsdk.Config) (api.Object, diag.Diagnostics) {
	var m M
	d := config.Get(ctx, &m)
	obj := r.newObj()
	r.expand(ctx, &m, nil, &m, obj, &d)
	return obj, d
}

// manifestConfig reads a manifest of one object into the resource and
// its configuration, as terraform would send it.
func manifestConfig(t *testing.T, manifest string) (resource.Resource, tfsdk.Config) {
	t.Helper()
	ctx := context.Background()
	f, diags := hclsyntax.ParseConfig([]byte(manifest), "manifest.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	blocks := f.Body.(*hclsyntax.Body).Blocks
	if len(blocks) != 1 || len(blocks[0].Labels) != 1 {
		t.Fatalf("want one object in the manifest, got %d blocks", len(blocks))
	}
	var r resource.Resource
	for _, newResource := range (&MaestroProvider{}).Resources(ctx) {
		cand := newResource()
		var md resource.MetadataResponse
		cand.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "maestro"}, &md)
		if md.TypeName == "maestro_"+blocks[0].Type {
			r = cand
		}
	}
	if r == nil {
		t.Fatalf("no resource maestro_%s", blocks[0].Type)
	}
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx)
	val, err := bodyValue(blocks[0].Body, typ.(tftypes.Object))
	if err != nil {
		t.Fatal(err)
	}
	return r, tfsdk.Config{Raw: val, Schema: sr.Schema}
}

// bodyValue is an HCL body as a value of the object type typ: attributes
// from its attributes, nested blocks from its blocks; what is left out is
// null, or an empty list for a list of blocks.
func bodyValue(body *hclsyntax.Body, typ tftypes.Object) (tftypes.Value, error) {
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		var blocks []*hclsyntax.Block
		for _, b := range body.Blocks {
			if b.Type == name {
				blocks = append(blocks, b)
			}
		}
		list, isList := at.(tftypes.List)
		obj, isObj := at.(tftypes.Object)
		var err error
		switch {
		case body.Attributes[name] != nil:
			v, diags := body.Attributes[name].Expr.Value(nil)
			if diags.HasErrors() {
				return tftypes.Value{}, diags
			}
			vals[name], err = ctyValue(v, at)
		case isList && len(blocks) > 0:
			var elems []tftypes.Value
			for _, b := range blocks {
				e, err := bodyValue(b.Body, list.ElementType.(tftypes.Object))
				if err != nil {
					return tftypes.Value{}, err
				}
				elems = append(elems, e)
			}
			vals[name] = tftypes.NewValue(at, elems)
		case isObj && len(blocks) == 1:
			vals[name], err = bodyValue(blocks[0].Body, obj)
		case isList && isObjectType(list.ElementType):
			vals[name] = tftypes.NewValue(at, []tftypes.Value{})
		default:
			vals[name] = tftypes.NewValue(at, nil)
		}
		if err != nil {
			return tftypes.Value{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	return tftypes.NewValue(typ, vals), nil
}

func isObjectType(t tftypes.Type) bool {
	_, ok := t.(tftypes.Object)
	return ok
}

// ctyValue converts an attribute's HCL value to typ.
func ctyValue(v cty.Value, typ tftypes.Type) (tftypes.Value, error) {
	switch {
	case v.IsNull():
		return tftypes.NewValue(typ, nil), nil
	case typ.Is(tftypes.String):
		if v.Type() == cty.Number {
			return tftypes.NewValue(typ, v.AsBigFloat().Text('f', -1)), nil
		}
		return tftypes.NewValue(typ, v.AsString()), nil
	case typ.Is(tftypes.Number):
		return tftypes.NewValue(typ, new(big.Float).Set(v.AsBigFloat())), nil
	case typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, v.True()), nil
	}
	switch t := typ.(type) {
	case tftypes.Map:
		m := map[string]tftypes.Value{}
		for k, e := range v.AsValueMap() {
			ev, err := ctyValue(e, t.ElementType)
			if err != nil {
				return tftypes.Value{}, err
			}
			m[k] = ev
		}
		return tftypes.NewValue(typ, m), nil
	case tftypes.List:
		var l []tftypes.Value
		for _, e := range v.AsValueSlice() {
			ev, err := ctyValue(e, t.ElementType)
			if err != nil {
				return tftypes.Value{}, err
			}
			l = append(l, ev)
		}
		return tftypes.NewValue(typ, l), nil
	}
	return tftypes.Value{}, fmt.Errorf("cannot convert %s to %s", v.Type().FriendlyName(), typ)
}
