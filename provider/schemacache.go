package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// The framework asks a block for its type on every value of every request
// (fwschemadata's null-block handling converts each path to its schema
// type), and a block builds that type afresh from its whole subtree each
// time. For the deep pod template that was three quarters of a no-op
// plan's CPU. The wrappers below compute a block's type once; they embed
// the framework's block, so everything else about it (attributes, plan
// modifiers, validators, nesting) is the framework's own.

// cachedSingleBlock is a SingleNestedBlock with its type computed once.
type cachedSingleBlock struct {
	schema.SingleNestedBlock
	typ attr.Type
}

func (b cachedSingleBlock) Type() attr.Type { return b.typ }

// cachedListBlock is a ListNestedBlock with its type computed once.
type cachedListBlock struct {
	schema.ListNestedBlock
	typ attr.Type
}

func (b cachedListBlock) Type() attr.Type { return b.typ }

// cacheBlockTypes replaces every nested block of blocks, at every depth,
// with its type-caching wrapper. Types are built bottom-up, so each level
// builds on its children's cached types.
func cacheBlockTypes(blocks map[string]schema.Block) map[string]schema.Block {
	if blocks == nil {
		return nil
	}
	out := make(map[string]schema.Block, len(blocks))
	for name, b := range blocks {
		switch b := b.(type) {
		case schema.SingleNestedBlock:
			b.Blocks = cacheBlockTypes(b.Blocks)
			out[name] = cachedSingleBlock{SingleNestedBlock: b, typ: b.Type()}
		case schema.ListNestedBlock:
			b.NestedObject.Blocks = cacheBlockTypes(b.NestedObject.Blocks)
			out[name] = cachedListBlock{ListNestedBlock: b, typ: b.Type()}
		default:
			out[name] = b
		}
	}
	return out
}
