package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Validating a configuration without the framework's schema walk.
//
// Terraform asks for every resource's configuration to be validated at
// every plan (ValidateResourceConfig). The framework then turns the
// configuration's empty list blocks into null ones and validates every
// attribute and block, each time looking its path up in the schema from
// the root and converting the value there, then runs the resource's own
// ValidateConfig. For a deployment's pod template that was most of the
// provider's CPU in a no-op plan, after the fast refresh and plan paths.
//
// validateWalk does the same steps in one walk along the value: the same
// schema (the resource's own), the same null blocks, the same checks of
// each attribute (set though read-only, missing though required,
// write-only where the client cannot, deprecated), the same validators
// called with the same values, and the same resource Configure and
// ValidateConfig. It answers only a configuration with nothing to say: any
// diagnostic, and anything the walk does not handle (a schema part without
// a walk here, an unknown block, a value the framework would fail to
// convert), sends the whole request to the framework, which then says it
// in its own words. The acceptance tests run every answer through the
// framework too and fail when the framework says anything
// (shadowValidations in provider_test.go).

// walkKind is a resource type whose configurations validateWalk handles.
type walkKind struct {
	typ         tftypes.Type
	schema      schema.Schema
	root        *walkBlock
	newResource func() resource.Resource
}

// walkBlock is a block (or the schema's root) as the walk needs it.
type walkBlock struct {
	attrs  []walkAttr
	blocks []walkNested
}

type walkAttr struct {
	name                                      string
	required, readOnly, writeOnly, deprecated bool
	// kind says which validators run (none for attributes without
	// validators); typ converts the value for them.
	kind    walkValue
	typ     attr.Type
	strings []validator.String
	ints    []validator.Int64
}

type walkValue int

const (
	walkNone walkValue = iota
	walkString
	walkInt64
)

type walkNested struct {
	name       string
	list       bool
	deprecated bool
	block      *walkBlock
}

// compileWalk is the walk of a resource schema; false when some part of
// it is not handled here (its configurations then go to the framework).
func compileWalk(s schema.Schema) (*walkBlock, bool) {
	if s.DeprecationMessage != "" {
		return nil, false
	}
	return compileBlock(s.Attributes, s.Blocks)
}

func compileBlock(attrs map[string]schema.Attribute, blocks map[string]schema.Block) (*walkBlock, bool) {
	b := &walkBlock{}
	for name, a := range attrs {
		wa := walkAttr{name: name, required: a.IsRequired(), readOnly: a.IsComputed() && !a.IsOptional(),
			writeOnly: a.IsWriteOnly(), deprecated: a.GetDeprecationMessage() != ""}
		if !a.IsRequired() && !a.IsOptional() && !a.IsComputed() || a.IsWriteOnly() && (a.IsComputed() || a.IsRequired() && a.IsOptional()) {
			return nil, false // an invalid definition: the framework says so
		}
		switch a := a.(type) {
		case schema.StringAttribute:
			if a.CustomType != nil {
				return nil, false
			}
			if len(a.Validators) > 0 {
				wa.kind, wa.strings, wa.typ = walkString, a.Validators, types.StringType
			}
		case schema.Int64Attribute:
			if a.CustomType != nil {
				return nil, false
			}
			if len(a.Validators) > 0 {
				wa.kind, wa.ints, wa.typ = walkInt64, a.Validators, types.Int64Type
			}
		case schema.BoolAttribute:
			if a.CustomType != nil || len(a.Validators) > 0 {
				return nil, false
			}
		case schema.ListAttribute:
			if a.CustomType != nil || len(a.Validators) > 0 {
				return nil, false
			}
		case schema.MapAttribute:
			if a.CustomType != nil || len(a.Validators) > 0 {
				return nil, false
			}
		default: // nested attributes, other types
			return nil, false
		}
		b.attrs = append(b.attrs, wa)
	}
	for name, blk := range blocks {
		if u, ok := blk.(interface{ framework() schema.Block }); ok {
			blk = u.framework()
		}
		var nested *walkBlock
		var ok bool
		n := walkNested{name: name, deprecated: blk.GetDeprecationMessage() != ""}
		switch blk := blk.(type) {
		case schema.SingleNestedBlock:
			if len(blk.Validators) > 0 {
				return nil, false
			}
			nested, ok = compileBlock(blk.Attributes, blk.Blocks)
		case schema.ListNestedBlock:
			if blk.CustomType != nil || len(blk.Validators) > 0 || blk.NestedObject.CustomType != nil || len(blk.NestedObject.Validators) > 0 {
				return nil, false
			}
			n.list = true
			nested, ok = compileBlock(blk.NestedObject.Attributes, blk.NestedObject.Blocks)
		default: // set blocks
			return nil, false
		}
		if !ok {
			return nil, false
		}
		n.block = nested
		b.blocks = append(b.blocks, n)
	}
	return b, true
}

// validateWalk is the framework's answer to a valid configuration with
// nothing to say, or nil when the framework must validate it.
func (u *directServer) validateWalk(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) *tfprotov6.ValidateResourceConfigResponse {
	k, ok := u.walks[req.TypeName]
	if !ok || req.Config == nil {
		return nil
	}
	raw, err := req.Config.Unmarshal(k.typ)
	if err != nil {
		return nil
	}
	raw, _, ok = nullEmptyListBlocks(raw, k.root)
	if !ok {
		return nil
	}
	w := walker{ctx: ctx, config: tfsdk.Config{Raw: raw, Schema: k.schema}}
	if req.ClientCapabilities != nil {
		w.caps.WriteOnlyAttributesAllowed = req.ClientCapabilities.WriteOnlyAttributesAllowed
	}
	if raw.IsNull() || !w.object(k.root, raw, path.Empty(), path.Empty().Expression()) {
		return nil
	}

	// The resource's own checks, as the framework runs them: a new
	// resource, configured with what the provider's Configure handed out.
	r := k.newResource()
	if rc, ok := r.(resource.ResourceWithConfigure); ok {
		var cresp resource.ConfigureResponse
		var data any
		if h := u.provider.handle.Load(); h != nil {
			data = h
		}
		rc.Configure(ctx, resource.ConfigureRequest{ProviderData: data}, &cresp)
		if len(cresp.Diagnostics) > 0 {
			return nil
		}
	}
	if _, ok := r.(resource.ResourceWithConfigValidators); ok {
		return nil
	}
	if rv, ok := r.(resource.ResourceWithValidateConfig); ok {
		var vresp resource.ValidateConfigResponse
		rv.ValidateConfig(ctx, resource.ValidateConfigRequest{Config: w.config,
			ClientCapabilities: resource.ValidateConfigClientCapabilities{WriteOnlyAttributesAllowed: w.caps.WriteOnlyAttributesAllowed}}, &vresp)
		if len(vresp.Diagnostics) > 0 {
			return nil
		}
	}
	return &tfprotov6.ValidateResourceConfigResponse{}
}

// nullEmptyListBlocks is v, the value of block b, with every empty list
// block in it made null, as the framework has a configuration
// (fwschemadata's NullifyCollectionBlocks), and whether that changed it;
// false when v holds a block this walk does not handle.
func nullEmptyListBlocks(v tftypes.Value, b *walkBlock) (out tftypes.Value, changed, ok bool) {
	if v.IsNull() {
		return v, false, true
	}
	if !v.IsKnown() {
		return v, false, false
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return v, false, false
	}
	for _, n := range b.blocks {
		cur, ok := attrs[n.name]
		if !ok {
			return v, false, false
		}
		next, c, ok := nullEmptyBlock(cur, n)
		if !ok {
			return v, false, false
		}
		if c {
			attrs[n.name], changed = next, true
		}
	}
	if !changed {
		return v, false, true
	}
	return tftypes.NewValue(v.Type(), attrs), true, true
}

// nullEmptyBlock is nullEmptyListBlocks for the value of nested block n:
// null when it is an empty list.
func nullEmptyBlock(v tftypes.Value, n walkNested) (out tftypes.Value, changed, ok bool) {
	if !n.list || v.IsNull() || !v.IsKnown() {
		return nullEmptyListBlocks(v, n.block)
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return v, false, false
	}
	if len(elems) == 0 {
		return tftypes.NewValue(v.Type(), nil), true, true
	}
	for i, e := range elems {
		next, c, ok := nullEmptyListBlocks(e, n.block)
		if !ok {
			return v, false, false
		}
		if c {
			elems[i], changed = next, true
		}
	}
	if !changed {
		return v, false, true
	}
	return tftypes.NewValue(v.Type(), elems), true, true
}

// walker validates one configuration.
type walker struct {
	ctx    context.Context
	config tfsdk.Config
	caps   validator.ValidateSchemaClientCapabilities
}

// object checks the attributes and nested blocks of block b, whose value
// at p is v (null: every one of them null, as the framework walks an
// absent single block); false when anything has something to say.
func (w *walker) object(b *walkBlock, v tftypes.Value, p path.Path, pe path.Expression) bool {
	var attrs map[string]tftypes.Value
	if !v.IsNull() && (!v.IsKnown() || v.As(&attrs) != nil) {
		return false
	}
	for i := range b.attrs {
		if !w.attribute(&b.attrs[i], attrs, p, pe) {
			return false
		}
	}
	for _, n := range b.blocks {
		val, present := attrs[n.name]
		null := !present || val.IsNull()
		if !null && !val.IsKnown() {
			return false
		}
		if n.deprecated && !null {
			return false
		}
		bp, bpe := p.AtName(n.name), pe.AtName(n.name)
		if !n.list {
			if null {
				val = tftypes.NewValue(tftypes.Object{}, nil)
			}
			if !w.object(n.block, val, bp, bpe) {
				return false
			}
			continue
		}
		if null {
			continue
		}
		var elems []tftypes.Value
		if val.As(&elems) != nil {
			return false
		}
		for i, e := range elems {
			if !w.object(n.block, e, bp.AtListIndex(i), bpe.AtListIndex(i)) {
				return false
			}
		}
	}
	return true
}

// attribute checks attribute a of an object whose attributes are attrs
// (nil: a null object), as the framework's AttributeValidate does.
func (w *walker) attribute(a *walkAttr, attrs map[string]tftypes.Value, p path.Path, pe path.Expression) bool {
	v, present := attrs[a.name]
	null := !present || v.IsNull()
	unknown := !null && !v.IsKnown()
	if a.readOnly && !null || a.required && null || a.writeOnly && !null && !w.caps.WriteOnlyAttributesAllowed ||
		a.deprecated && !null && !unknown {
		return false
	}
	if a.kind == walkNone {
		return true
	}
	ap, ape := p.AtName(a.name), pe.AtName(a.name)
	if !present {
		v = tftypes.NewValue(a.typ.TerraformType(w.ctx), nil)
	}
	// The value as the framework hands it to validators (its type's own
	// conversion: a number that is no int64 fails, as in the framework).
	val, err := a.typ.ValueFromTerraform(w.ctx, v)
	if err != nil {
		return false
	}
	switch a.kind {
	case walkString:
		req := validator.StringRequest{Path: ap, PathExpression: ape, Config: w.config, ConfigValue: val.(types.String), ClientCapabilities: w.caps}
		for _, vd := range a.strings {
			var resp validator.StringResponse
			if vd.ValidateString(w.ctx, req, &resp); len(resp.Diagnostics) > 0 {
				return false
			}
		}
	case walkInt64:
		req := validator.Int64Request{Path: ap, PathExpression: ape, Config: w.config, ConfigValue: val.(types.Int64), ClientCapabilities: w.caps}
		for _, vd := range a.ints {
			var resp validator.Int64Response
			if vd.ValidateInt64(w.ctx, req, &resp); len(resp.Diagnostics) > 0 {
				return false
			}
		}
	}
	return true
}

// ValidateResourceConfig answers a valid configuration with nothing to say
// itself; any other goes to the framework.
func (u *directServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	var shadow func(ours, framework *tfprotov6.ValidateResourceConfigResponse)
	if u.shadows.validate != nil {
		shadow = func(ours, framework *tfprotov6.ValidateResourceConfigResponse) {
			u.shadows.validate(req, ours, framework)
		}
	}
	return answer(ctx, req, u.validateWalk(ctx, req), u.ProviderServer.ValidateResourceConfig, shadow)
}
