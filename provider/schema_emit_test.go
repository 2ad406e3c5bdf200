package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// TestEmittedSchemaMatchesDescription: what Terraform gets from the
// provider for every manifest kind is what internal/schema describes and
// the CLI decodes manifests with: the same blocks, attributes, types and
// flags, the same schema version, timeouts where the description has
// them, and plan modifiers that force replacement and leave server-filled
// attributes alone exactly where the description's rules say.
func TestEmittedSchemaMatchesDescription(t *testing.T) {
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	frameworkRules := frameworkSchemaRules(ctx, t)
	for _, kind := range mschema.Kinds() {
		t.Run(kind, func(t *testing.T) {
			s := resp.ResourceSchemas[mschema.TypePrefix+kind]
			if s == nil {
				t.Fatalf("the provider has no %s%s resource", mschema.TypePrefix, kind)
			}
			d, _ := mschema.Describe(kind)
			if s.Version != d.Version {
				t.Errorf("schema version %d, described %d", s.Version, d.Version)
			}
			got, err := jsonBlockOf(s.Block)
			if err != nil {
				t.Fatal(err)
			}
			timeouts, hasTimeouts := got.NestedBlocks["timeouts"]
			if hasTimeouts != (len(d.Timeouts) > 0) {
				t.Errorf("timeouts block: %v, described %v", hasTimeouts, d.Timeouts)
			}
			if hasTimeouts && len(timeouts.Block.Attributes) != len(d.Timeouts) {
				t.Errorf("timeouts for %d operations, described %v", len(timeouts.Block.Attributes), d.Timeouts)
			}
			delete(got.NestedBlocks, "timeouts")
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			wantJSON, _ := json.MarshalIndent(mschema.JSONBlock(kind), "", "  ")
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("the provider's schema differs from the description:\n got %s\nwant %s", gotJSON, wantJSON)
			}
			r := frameworkRules[kind]
			if want := mschema.KeepUnset(kind); !slices.Equal(r.keepUnset, want) {
				t.Errorf("optional computed attributes without a default: %v, described %v", r.keepUnset, want)
			}
			want := mschema.ForceNew(kind)
			if d.ReplaceSpec == nil && !slices.Equal(r.forceNew, want) {
				t.Errorf("attributes whose change replaces: %v, described %v", r.forceNew, want)
			}
			for _, p := range r.forceNew { // a pod's ModifyPlan replaces on the rest of spec
				if !slices.Contains(want, p) {
					t.Errorf("%s replaces the %s, but the description does not say so", p, kind)
				}
			}
		})
	}
}

// jsonBlockOf is the protocol's block in terraform-json's shape.
func jsonBlockOf(b *tfprotov6.SchemaBlock) (*tfjson.SchemaBlock, error) {
	descKind := func(k tfprotov6.StringKind) tfjson.SchemaDescriptionKind {
		if k == tfprotov6.StringKindMarkdown {
			return tfjson.SchemaDescriptionKindMarkdown
		}
		return tfjson.SchemaDescriptionKindPlain
	}
	out := &tfjson.SchemaBlock{
		Attributes: map[string]*tfjson.SchemaAttribute{}, NestedBlocks: map[string]*tfjson.SchemaBlockType{},
		Description: b.Description, DescriptionKind: descKind(b.DescriptionKind), Deprecated: b.Deprecated,
	}
	for _, a := range b.Attributes {
		typJSON, err := a.Type.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		sa := &tfjson.SchemaAttribute{
			Description: a.Description, DescriptionKind: descKind(a.DescriptionKind), Deprecated: a.Deprecated,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
		}
		if err := sa.AttributeType.UnmarshalJSON(typJSON); err != nil {
			return nil, fmt.Errorf("attribute %q: type %s: %w", a.Name, typJSON, err)
		}
		out.Attributes[a.Name] = sa
	}
	for _, nb := range b.BlockTypes {
		inner, err := jsonBlockOf(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", nb.TypeName, err)
		}
		bt := &tfjson.SchemaBlockType{Block: inner, MinItems: uint64(nb.MinItems), MaxItems: uint64(nb.MaxItems), NestingMode: tfjson.SchemaNestingModeList}
		if nb.Nesting == tfprotov6.SchemaNestedBlockNestingModeSingle {
			bt.NestingMode = tfjson.SchemaNestingModeSingle
		}
		out.NestedBlocks[nb.TypeName] = bt
	}
	return out, nil
}

type schemaRules struct{ forceNew, keepUnset []string }

// frameworkSchemaRules reads, from each manifest kind's framework
// schema, the attributes with a plan modifier that forces replacement
// and the optional computed ones without a default.
func frameworkSchemaRules(ctx context.Context, t *testing.T) map[string]*schemaRules {
	out := map[string]*schemaRules{}
	for _, newRes := range New("test")().Resources(ctx) {
		r := newRes()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "maestro"}, &md)
		kind, ok := mschema.KindOfType(md.TypeName)
		if !ok {
			continue
		}
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() {
			t.Fatalf("%s schema: %v", md.TypeName, sr.Diagnostics)
		}
		rules := &schemaRules{}
		walkFramework("", sr.Schema.Attributes, sr.Schema.Blocks, rules)
		sort.Strings(rules.forceNew)
		sort.Strings(rules.keepUnset)
		out[kind] = rules
	}
	return out
}

func walkFramework(prefix string, attrs map[string]rschema.Attribute, blocks map[string]rschema.Block, rules *schemaRules) {
	join := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	for name, a := range attrs {
		if forcesReplace(a) {
			rules.forceNew = append(rules.forceNew, join(name))
		}
		if a.IsOptional() && a.IsComputed() && !hasDefault(a) {
			rules.keepUnset = append(rules.keepUnset, join(name))
		}
	}
	for name, b := range blocks {
		if name == "timeouts" {
			continue
		}
		obj := b.GetNestedObject()
		inner := map[string]rschema.Attribute{}
		for n, a := range obj.GetAttributes() {
			inner[n] = a.(rschema.Attribute)
		}
		innerBlocks := map[string]rschema.Block{}
		for n, nb := range obj.GetBlocks() {
			innerBlocks[n] = nb.(rschema.Block)
		}
		walkFramework(join(name), inner, innerBlocks, rules)
	}
}

// forcesReplace reports a RequiresReplace or RequiresReplaceIf plan
// modifier (the framework's constructors return unexported types, so the
// type name is what tells them apart).
func forcesReplace(a rschema.Attribute) bool {
	var mods []any
	switch a := a.(type) {
	case rschema.StringAttribute:
		mods = anySlice(a.PlanModifiers)
	case rschema.Int64Attribute:
		mods = anySlice(a.PlanModifiers)
	case rschema.BoolAttribute:
		mods = anySlice(a.PlanModifiers)
	case rschema.MapAttribute:
		mods = anySlice(a.PlanModifiers)
	case rschema.ListAttribute:
		mods = anySlice(a.PlanModifiers)
	}
	return slices.ContainsFunc(mods, func(m any) bool {
		return strings.Contains(strings.ToLower(fmt.Sprintf("%T", m)), "requiresreplace")
	})
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// hasDefault reports a static default in the schema.
func hasDefault(a rschema.Attribute) bool {
	switch a := a.(type) {
	case rschema.StringAttribute:
		return a.Default != nil
	case rschema.Int64Attribute:
		return a.Default != nil
	case rschema.BoolAttribute:
		return a.Default != nil
	}
	return false
}

// TestEmitAttribute: each value rule of the description becomes the
// framework's validator or plan modifier for it.
func TestEmitAttribute(t *testing.T) {
	tests := []struct {
		name             string
		in               mschema.Attribute
		validators, mods int
		wantDefault      bool
	}{
		{"plain string", mschema.Attribute{Type: mschema.String, Optional: true}, 0, 0, false},
		{"one of", mschema.Attribute{Type: mschema.String, Optional: true, OneOf: []string{"a"}}, 1, 0, false},
		{"dns label", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.DNSLabel}, 1, 0, false},
		{"abs path", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.AbsPath}, 1, 0, false},
		{"quantity: checked and compared by value", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.Quantity}, 1, 1, false},
		{"int or percent", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.IntOrPercent}, 1, 0, false},
		{"port or name", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.PortOrName}, 1, 0, false},
		{"duration", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.Duration}, 1, 0, false},
		{"node name", mschema.Attribute{Type: mschema.String, Optional: true, Format: mschema.NodeName}, 1, 0, false},
		{"string default", mschema.Attribute{Type: mschema.String, Optional: true, Computed: true, Default: "x"}, 0, 0, true},
		{"force new and keep state", mschema.Attribute{Type: mschema.String, Optional: true, Computed: true, ForceNew: true, KeepState: true}, 0, 2, false},
		{"cluster ip rule", mschema.Attribute{Type: mschema.String, Optional: true, Computed: true, Plan: mschema.ClusterIPReplace}, 0, 2, false},
		{"range", mschema.Attribute{Type: mschema.Int64, Optional: true, Range: mschema.Between(1, 2)}, 1, 0, false},
		{"int default", mschema.Attribute{Type: mschema.Int64, Optional: true, Computed: true, Default: int64(3)}, 0, 0, true},
		{"node port rule", mschema.Attribute{Type: mschema.Int64, Optional: true, Computed: true, Plan: mschema.NodePortKeep}, 0, 1, false},
		{"map force new", mschema.Attribute{Type: mschema.StringMap, Required: true, ForceNew: true}, 0, 1, false},
		{"bool default", mschema.Attribute{Type: mschema.Bool, Optional: true, Computed: true, Default: true}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var validators, mods int
			var hasDefault bool
			switch a := emitAttribute(tt.in).(type) {
			case rschema.StringAttribute:
				validators, mods, hasDefault = len(a.Validators), len(a.PlanModifiers), a.Default != nil
			case rschema.Int64Attribute:
				validators, mods, hasDefault = len(a.Validators), len(a.PlanModifiers), a.Default != nil
			case rschema.BoolAttribute:
				hasDefault = a.Default != nil
			case rschema.MapAttribute:
				mods = len(a.PlanModifiers)
			default:
				t.Fatalf("emitted %T", a)
			}
			if validators != tt.validators || mods != tt.mods || hasDefault != tt.wantDefault {
				t.Errorf("validators %d, plan modifiers %d, default %v; want %d, %d, %v", validators, mods, hasDefault, tt.validators, tt.mods, tt.wantDefault)
			}
		})
	}
	for _, bad := range []mschema.Attribute{
		{Type: mschema.String, Optional: true, Plan: mschema.NodePortKeep},
		{Type: mschema.Int64, Optional: true, Plan: mschema.TargetPortDefault},
		{Type: mschema.String, Optional: true, Format: mschema.Format(99)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("emitting %+v did not refuse it", bad)
				}
			}()
			emitAttribute(bad)
		}()
	}
}
