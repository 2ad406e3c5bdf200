package schema

import (
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"
)

// What the description implies: the attribute flags a default implies,
// terraform-json's shape of a block, and the rules of a kind.

// normalized is k with every attribute that has a default marked
// Optional and Computed (the default fills in what is left out).
func normalized(k Kind) Kind {
	k.Block = normalizedBlock(k.Block)
	return k
}

func normalizedBlock(b Block) Block {
	attrs := make(map[string]Attribute, len(b.Attributes))
	for name, a := range b.Attributes {
		if a.Default != nil {
			a.Optional, a.Computed = true, true
		}
		attrs[name] = a
	}
	blocks := make(map[string]Nested, len(b.Blocks))
	for name, n := range b.Blocks {
		n.Block = normalizedBlock(n.Block)
		blocks[name] = n
	}
	b.Attributes, b.Blocks = attrs, blocks
	return b
}

// ctyType is the attribute type's cty type.
func (t Type) ctyType() cty.Type {
	switch t {
	case Int64:
		return cty.Number
	case Bool:
		return cty.Bool
	case StringList:
		return cty.List(cty.String)
	case StringMap:
		return cty.Map(cty.String)
	}
	return cty.String
}

// jsonBlock is b in terraform-json's shape.
func jsonBlock(b Block) *tfjson.SchemaBlock {
	out := &tfjson.SchemaBlock{
		Attributes:      map[string]*tfjson.SchemaAttribute{},
		NestedBlocks:    map[string]*tfjson.SchemaBlockType{},
		Description:     b.Description,
		DescriptionKind: tfjson.SchemaDescriptionKindMarkdown,
	}
	for name, a := range b.Attributes {
		out.Attributes[name] = &tfjson.SchemaAttribute{
			AttributeType: a.Type.ctyType(), Description: a.Description, DescriptionKind: tfjson.SchemaDescriptionKindMarkdown,
			Required: a.Required, Optional: a.Optional, Computed: a.Computed,
			Sensitive: a.Sensitive, WriteOnly: a.WriteOnly,
		}
	}
	for name, n := range b.Blocks {
		mode := tfjson.SchemaNestingModeSingle
		if n.List {
			mode = tfjson.SchemaNestingModeList
		}
		out.NestedBlocks[name] = &tfjson.SchemaBlockType{NestingMode: mode, Block: jsonBlock(n.Block)}
	}
	return out
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// kindRules collects the kind's rules from its attributes' flags.
func kindRules(k Kind) *ruleSet {
	r := &ruleSet{}
	walk("", k.Block, func(p string, a Attribute) {
		if a.ForceNew {
			r.ForceNew = append(r.ForceNew, p)
		}
		if a.Optional && a.Computed && a.Default == nil {
			r.KeepUnset = append(r.KeepUnset, p)
		}
		if a.Sensitive {
			r.Sensitive = append(r.Sensitive, p)
		}
		if a.WriteOnly {
			r.WriteOnly = append(r.WriteOnly, p)
		}
		if a.Computed && !a.Optional {
			r.ServerOwned = append(r.ServerOwned, p)
		}
	})
	if k.ReplaceSpec != nil {
		replaceSpec("spec", k.Blocks["spec"].Block, k.ReplaceSpec, r)
	}
	r.sort()
	return r
}

// walk calls f with every attribute of b, at every depth, and its path.
func walk(prefix string, b Block, f func(string, Attribute)) {
	for name, a := range b.Attributes {
		f(join(prefix, name), a)
	}
	for name, n := range b.Blocks {
		walk(join(prefix, name), n.Block, f)
	}
}

// replaceSpec adds every settable attribute and every block under prefix
// to the force-new list, but the attributes named in except (relative to
// spec) and the blocks holding them.
func replaceSpec(prefix string, b Block, except []string, r *ruleSet) {
	kept := func(p string) bool {
		rel := strings.TrimPrefix(p, "spec.")
		return slices.ContainsFunc(except, func(e string) bool { return e == rel || strings.HasPrefix(e, rel+".") })
	}
	for name, a := range b.Attributes {
		if p := join(prefix, name); !(a.Computed && !a.Optional) && !kept(p) {
			r.ForceNew = append(r.ForceNew, p)
		}
	}
	for name, n := range b.Blocks {
		p := join(prefix, name)
		if !kept(p) {
			r.ForceNew = append(r.ForceNew, p)
		}
		replaceSpec(p, n.Block, except, r)
	}
}
