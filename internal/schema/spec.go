package schema

import (
	"github.com/hashicorp/hcl/v2/hcldec"
	tfjson "github.com/hashicorp/terraform-json"
)

// blockSpec is the hcldec spec of a block: its settable attributes with
// their types, and its nested blocks. Attributes only the server sets are
// left out, so a manifest setting one is told it cannot. The timeouts
// block is Terraform's concern and not part of a manifest.
func blockSpec(b *tfjson.SchemaBlock) hcldec.ObjectSpec {
	spec := hcldec.ObjectSpec{}
	for name, a := range b.Attributes {
		if a.Computed && !a.Optional {
			continue
		}
		spec[name] = &hcldec.AttrSpec{Name: name, Type: a.AttributeType, Required: a.Required}
	}
	for name, nb := range b.NestedBlocks {
		if name == "timeouts" {
			continue
		}
		inner := blockSpec(nb.Block)
		switch nb.NestingMode {
		case tfjson.SchemaNestingModeSingle, tfjson.SchemaNestingModeGroup:
			spec[name] = &hcldec.BlockSpec{TypeName: name, Nested: inner, Required: nb.MinItems > 0}
		case tfjson.SchemaNestingModeSet:
			spec[name] = &hcldec.BlockSetSpec{TypeName: name, Nested: inner, MinItems: int(nb.MinItems), MaxItems: int(nb.MaxItems)}
		case tfjson.SchemaNestingModeMap:
			spec[name] = &hcldec.BlockMapSpec{TypeName: name, Nested: inner, LabelNames: []string{"key"}}
		default:
			spec[name] = &hcldec.BlockListSpec{TypeName: name, Nested: inner, MinItems: int(nb.MinItems), MaxItems: int(nb.MaxItems)}
		}
	}
	return spec
}
