package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// The plugin framework's schema of every manifest kind is emitted from
// its description in internal/schema, which the CLI reads too: the
// description's flags, formats and rules become the framework's
// defaults, validators and plan modifiers here.

// kindSchema is the resource schema of a manifest kind.
func kindSchema(ctx context.Context, kind string) schema.Schema {
	k, ok := mschema.Describe(kind)
	if !ok {
		panic(fmt.Sprintf("provider: no description of kind %q in internal/schema", kind))
	}
	s := schema.Schema{
		MarkdownDescription: k.Description,
		Version:             k.Version,
		Attributes:          emitAttributes(k.Attributes),
		Blocks:              emitBlocks(k.Blocks),
	}
	if len(k.Timeouts) > 0 {
		s.Blocks["timeouts"] = timeouts.Block(ctx, timeouts.Opts{
			Create: slices.Contains(k.Timeouts, "create"),
			Update: slices.Contains(k.Timeouts, "update"),
			Delete: slices.Contains(k.Timeouts, "delete"),
		})
	}
	s.Blocks = cacheBlockTypes(s.Blocks)
	return s
}

func emitAttributes(attrs map[string]mschema.Attribute) map[string]schema.Attribute {
	out := make(map[string]schema.Attribute, len(attrs))
	for name, a := range attrs {
		out[name] = emitAttribute(a)
	}
	return out
}

func emitBlocks(blocks map[string]mschema.Nested) map[string]schema.Block {
	out := make(map[string]schema.Block, len(blocks))
	for name, n := range blocks {
		if n.List {
			out[name] = schema.ListNestedBlock{
				MarkdownDescription: n.Description,
				NestedObject:        schema.NestedBlockObject{Attributes: emitAttributes(n.Attributes), Blocks: emitBlocks(n.Blocks)},
			}
			continue
		}
		out[name] = schema.SingleNestedBlock{
			MarkdownDescription: n.Description,
			Attributes:          emitAttributes(n.Attributes),
			Blocks:              emitBlocks(n.Blocks),
		}
	}
	return out
}

// emitAttribute is a as the framework's attribute of its type.
func emitAttribute(a mschema.Attribute) schema.Attribute {
	switch a.Type {
	case mschema.Int64:
		out := schema.Int64Attribute{
			MarkdownDescription: a.Description,
			Required:            a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
			Validators: int64Validators(a), PlanModifiers: int64PlanModifiers(a),
		}
		if a.Default != nil {
			out.Default = int64default.StaticInt64(a.Default.(int64))
		}
		return out
	case mschema.Bool:
		out := schema.BoolAttribute{
			MarkdownDescription: a.Description,
			Required:            a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
			PlanModifiers: flagModifiers(a, boolplanmodifier.UseStateForUnknown, boolplanmodifier.RequiresReplace),
		}
		if a.Default != nil {
			out.Default = booldefault.StaticBool(a.Default.(bool))
		}
		return out
	case mschema.StringList:
		return schema.ListAttribute{
			MarkdownDescription: a.Description, ElementType: types.StringType,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
			PlanModifiers: flagModifiers(a, listplanmodifier.UseStateForUnknown, listplanmodifier.RequiresReplace),
		}
	case mschema.StringMap:
		return schema.MapAttribute{
			MarkdownDescription: a.Description, ElementType: types.StringType,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
			PlanModifiers: flagModifiers(a, mapplanmodifier.UseStateForUnknown, mapplanmodifier.RequiresReplace),
		}
	}
	out := schema.StringAttribute{
		MarkdownDescription: a.Description,
		Required:            a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
		Validators: stringValidators(a), PlanModifiers: stringPlanModifiers(a),
	}
	if a.Default != nil {
		out.Default = stringdefault.StaticString(a.Default.(string))
	}
	return out
}

// formatValidators are the validators of the string formats.
var formatValidators = map[mschema.Format]validator.String{
	mschema.DNSLabel:     dnsLabelValidator{},
	mschema.AbsPath:      absPathValidator{},
	mschema.Quantity:     quantityValidator{},
	mschema.IntOrPercent: intOrPercentValidator{},
	mschema.PortOrName:   portOrNameValidator{},
	mschema.Duration:     durationValidator{},
	mschema.NodeName:     nodeNameValidator{},
}

func stringValidators(a mschema.Attribute) []validator.String {
	var out []validator.String
	if a.OneOf != nil {
		out = append(out, oneOfValidator(a.OneOf))
	}
	if a.Format != mschema.AnyString {
		v, ok := formatValidators[a.Format]
		if !ok {
			panic(fmt.Sprintf("provider: no validator for string format %d", a.Format))
		}
		out = append(out, v)
	}
	return out
}

func int64Validators(a mschema.Attribute) []validator.Int64 {
	if a.Range == nil {
		return nil
	}
	return []validator.Int64{int64RangeValidator{min: a.Range.Min, max: a.Range.Max}}
}

func stringPlanModifiers(a mschema.Attribute) []planmodifier.String {
	switch a.Plan {
	case mschema.TargetPortDefault:
		return []planmodifier.String{targetPortDefault{}}
	case mschema.ClusterIPReplace:
		return []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIf(clusterIPChanged,
			"Changing an allocated cluster IP replaces the service.", "Changing an allocated cluster IP replaces the service.")}
	case mschema.VolumePinReplace:
		const why = "Pinning a volume to another node than the one its data lives on replaces the volume."
		return []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIf(pinMovesData, why, why)}
	case mschema.NoPlanRule:
	default:
		panic(fmt.Sprintf("provider: plan rule %d is not one of a string", a.Plan))
	}
	out := flagModifiers(a, stringplanmodifier.UseStateForUnknown, stringplanmodifier.RequiresReplace)
	if a.Format == mschema.Quantity {
		out = append(out, quantitySemanticEquality{})
	}
	return out
}

func int64PlanModifiers(a mschema.Attribute) []planmodifier.Int64 {
	switch a.Plan {
	case mschema.NodePortKeep:
		return []planmodifier.Int64{nodePortKeep{}}
	case mschema.NoPlanRule:
	default:
		panic(fmt.Sprintf("provider: plan rule %d is not one of a number", a.Plan))
	}
	return flagModifiers(a, int64planmodifier.UseStateForUnknown, int64planmodifier.RequiresReplace)
}

// flagModifiers are the plan modifiers of the attribute's KeepState and
// ForceNew flags, in that order, made by the framework's constructors for
// the attribute's type.
func flagModifiers[M any](a mschema.Attribute, keepState, requiresReplace func() M) []M {
	var out []M
	if a.KeepState {
		out = append(out, keepState())
	}
	if a.ForceNew {
		out = append(out, requiresReplace())
	}
	return out
}
