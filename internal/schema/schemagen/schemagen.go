// Package schemagen writes internal/schema's files from the provider: the
// resource schemas as `terraform providers schema -json` prints them
// (tfjson.ProviderSchemas), and the side table of what that format does
// not carry (which attributes force replacement, which the server fills
// in when left out). It imports the provider, so internal/schema itself
// does not: the CLI reads the generated files and never links the
// provider's framework code.
package schemagen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/maestro-dev/maestro/internal/schema"
	"github.com/maestro-dev/maestro/provider"
)

// Command is how to regenerate the files; staleness checks name it.
const Command = "go generate ./internal/schema"

// Files are the generated files' contents, by name within internal/schema.
type Files map[string][]byte

// Generate builds the files from the provider's schemas.
func Generate(ctx context.Context) (Files, error) {
	srv, err := providerserver.NewProtocol6WithError(provider.New("schema")())()
	if err != nil {
		return nil, fmt.Errorf("starting the provider server: %w", err)
	}
	resp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("reading the provider schema: %w", err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return nil, fmt.Errorf("reading the provider schema: %s: %s", d.Summary, d.Detail)
		}
	}
	ps := &tfjson.ProviderSchema{ResourceSchemas: map[string]*tfjson.Schema{}}
	for typ, s := range resp.ResourceSchemas {
		if _, ok := schema.KindOfType(typ); !ok {
			continue
		}
		block, err := convertBlock(s.Block)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		ps.ResourceSchemas[typ] = &tfjson.Schema{Version: uint64(s.Version), Block: block}
	}
	all := &tfjson.ProviderSchemas{FormatVersion: "1.0", Schemas: map[string]*tfjson.ProviderSchema{schema.ProviderSource: ps}}
	schemaJSON, err := marshal(all)
	if err != nil {
		return nil, err
	}
	rules, err := sideTable(ctx, ps)
	if err != nil {
		return nil, err
	}
	rulesJSON, err := marshal(rules)
	if err != nil {
		return nil, err
	}
	return Files{schema.SchemaFile: schemaJSON, schema.RulesFile: rulesJSON}, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// convertBlock turns the protocol's block into terraform-json's.
func convertBlock(b *tfprotov6.SchemaBlock) (*tfjson.SchemaBlock, error) {
	out := &tfjson.SchemaBlock{
		Attributes:      map[string]*tfjson.SchemaAttribute{},
		NestedBlocks:    map[string]*tfjson.SchemaBlockType{},
		Description:     b.Description,
		DescriptionKind: descKind(b.DescriptionKind),
		Deprecated:      b.Deprecated,
	}
	for _, a := range b.Attributes {
		if a.NestedType != nil {
			return nil, fmt.Errorf("attribute %q: nested attribute types are not supported", a.Name)
		}
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
		inner, err := convertBlock(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", nb.TypeName, err)
		}
		bt := &tfjson.SchemaBlockType{Block: inner, MinItems: uint64(nb.MinItems), MaxItems: uint64(nb.MaxItems)}
		switch nb.Nesting {
		case tfprotov6.SchemaNestedBlockNestingModeSingle:
			bt.NestingMode = tfjson.SchemaNestingModeSingle
		case tfprotov6.SchemaNestedBlockNestingModeList:
			bt.NestingMode = tfjson.SchemaNestingModeList
		case tfprotov6.SchemaNestedBlockNestingModeSet:
			bt.NestingMode = tfjson.SchemaNestingModeSet
		case tfprotov6.SchemaNestedBlockNestingModeMap:
			bt.NestingMode = tfjson.SchemaNestingModeMap
		default:
			return nil, fmt.Errorf("block %q: nesting mode %v is not supported", nb.TypeName, nb.Nesting)
		}
		out.NestedBlocks[nb.TypeName] = bt
	}
	return out, nil
}

func descKind(k tfprotov6.StringKind) tfjson.SchemaDescriptionKind {
	if k == tfprotov6.StringKindMarkdown {
		return tfjson.SchemaDescriptionKindMarkdown
	}
	return tfjson.SchemaDescriptionKindPlain
}

// sideTable walks the framework schemas for what the protocol's schema
// does not say: plan modifiers that force replacement, and optional
// computed attributes without a default (the server fills them in, and a
// configuration that leaves them out keeps the live value).
func sideTable(ctx context.Context, ps *tfjson.ProviderSchema) (map[string]*schema.Rules, error) {
	out := map[string]*schema.Rules{}
	p := provider.New("schema")()
	for _, newRes := range p.Resources(ctx) {
		r := newRes()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "maestro"}, &md)
		kind, ok := schema.KindOfType(md.TypeName)
		if !ok {
			continue
		}
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() {
			return nil, fmt.Errorf("%s schema: %v", md.TypeName, sr.Diagnostics)
		}
		rules := &schema.Rules{}
		walkFramework(ctx, "", sr.Schema.Attributes, sr.Schema.Blocks, rules)
		walkJSON("", ps.ResourceSchemas[md.TypeName].Block, rules)
		if kind == "pod" {
			// A running pod takes only new images in place (the pod
			// resource's ModifyPlan): every other spec attribute forces
			// replacement.
			podSpecForceNew("spec", ps.ResourceSchemas[md.TypeName].Block.NestedBlocks["spec"].Block, rules)
		}
		rules.Sort()
		out[kind] = rules
	}
	return out, nil
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// walkFramework records force-new and server-filled attributes.
func walkFramework(ctx context.Context, prefix string, attrs map[string]rschema.Attribute, blocks map[string]rschema.Block, rules *schema.Rules) {
	for name, a := range attrs {
		p := join(prefix, name)
		if forcesReplace(a) {
			rules.ForceNew = append(rules.ForceNew, p)
		}
		if a.IsOptional() && a.IsComputed() && !hasDefault(a) {
			rules.KeepUnset = append(rules.KeepUnset, p)
		}
	}
	for name, b := range blocks {
		if name == "timeouts" {
			continue
		}
		obj := b.GetNestedObject()
		inner := map[string]rschema.Attribute{}
		for n, a := range obj.GetAttributes() {
			if ra, ok := a.(rschema.Attribute); ok {
				inner[n] = ra
			}
		}
		innerBlocks := map[string]rschema.Block{}
		for n, nb := range obj.GetBlocks() {
			if rb, ok := nb.(rschema.Block); ok {
				innerBlocks[n] = rb
			}
		}
		walkFramework(ctx, join(prefix, name), inner, innerBlocks, rules)
	}
}

// walkJSON records sensitive, write-only and server-owned (computed only)
// attributes.
func walkJSON(prefix string, b *tfjson.SchemaBlock, rules *schema.Rules) {
	for name, a := range b.Attributes {
		p := join(prefix, name)
		if a.Sensitive {
			rules.Sensitive = append(rules.Sensitive, p)
		}
		if a.WriteOnly {
			rules.WriteOnly = append(rules.WriteOnly, p)
		}
		if a.Computed && !a.Optional {
			rules.ServerOwned = append(rules.ServerOwned, p)
		}
	}
	for name, nb := range b.NestedBlocks {
		if name == "timeouts" {
			continue
		}
		walkJSON(join(prefix, name), nb.Block, rules)
	}
}

// podSpecForceNew adds every settable attribute and block of a pod spec
// but the containers' images (and the container block as a whole, which
// holds the images).
func podSpecForceNew(prefix string, b *tfjson.SchemaBlock, rules *schema.Rules) {
	for name, a := range b.Attributes {
		p := join(prefix, name)
		if a.Computed && !a.Optional || p == "spec.container.image" || slices.Contains(rules.ForceNew, p) {
			continue
		}
		rules.ForceNew = append(rules.ForceNew, p)
	}
	names := make([]string, 0, len(b.NestedBlocks))
	for n := range b.NestedBlocks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := join(prefix, n)
		if p != "spec.container" { // adding or removing a container replaces the pod; its image alone does not
			rules.ForceNew = append(rules.ForceNew, p)
		}
		podSpecForceNew(p, b.NestedBlocks[n].Block, rules)
	}
}

// forcesReplace reports a RequiresReplace or RequiresReplaceIf plan
// modifier (the framework's constructors return unexported types, so the
// type name is what tells them apart).
func forcesReplace(a rschema.Attribute) bool {
	for _, m := range planModifiers(a) {
		if strings.Contains(strings.ToLower(fmt.Sprintf("%T", m)), "requiresreplace") {
			return true
		}
	}
	return false
}

// planModifiers are an attribute's plan modifiers, whatever its type.
func planModifiers(a rschema.Attribute) []any {
	var out []any
	add := func(n int, at func(int) any) {
		for i := range n {
			out = append(out, at(i))
		}
	}
	switch a := a.(type) {
	case rschema.StringAttribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.Int64Attribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.BoolAttribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.MapAttribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.ListAttribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.SetAttribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	case rschema.Float64Attribute:
		add(len(a.PlanModifiers), func(i int) any { return a.PlanModifiers[i] })
	}
	return out
}

// hasDefault reports a static default in the schema (the framework fills
// it in; the server is not asked).
func hasDefault(a rschema.Attribute) bool {
	switch a := a.(type) {
	case rschema.StringAttribute:
		return a.Default != nil
	case rschema.Int64Attribute:
		return a.Default != nil
	case rschema.BoolAttribute:
		return a.Default != nil
	case rschema.MapAttribute:
		return a.Default != nil
	case rschema.ListAttribute:
		return a.Default != nil
	case rschema.Float64Attribute:
		return a.Default != nil
	}
	return false
}
