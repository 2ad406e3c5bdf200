package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The framework walks the schema for every value of every request
// (fwschemadata's null-block handling, defaults, validation and plan
// modification look each value's path up in the schema), and the
// framework's blocks recompute on every call what never changes: a
// block's type from its whole subtree, and a nested object's attributes
// and blocks as fresh maps. For the deep pod template that was most of a
// no-op plan's CPU. The wrappers below compute those once; they embed the
// framework's block and nested object, so everything else about them
// (attributes, plan modifiers, validators, nesting) is the framework's own.

// The framework's interfaces for a schema's parts live in an internal
// package, so their names cannot be written here. The wrappers are
// generic over them instead, each instantiated by inference from the
// framework method it replaces: N is the nested block object interface
// (GetNestedObject's result), A and B the nested object's attribute and
// block maps (GetAttributes' and GetBlocks' results).

// cachedSingleBlock is a SingleNestedBlock with its type and nested
// object computed once.
type cachedSingleBlock[N any] struct {
	schema.SingleNestedBlock
	typ attr.Type
	obj N
}

func newCachedSingleBlock[N any](b schema.SingleNestedBlock, _ func() N) cachedSingleBlock[N] {
	return cachedSingleBlock[N]{SingleNestedBlock: b, typ: b.Type(), obj: cacheObject[N](schema.NestedBlockObject{
		Attributes: b.Attributes, Blocks: b.Blocks, CustomType: b.CustomType, Validators: b.Validators,
	})}
}

func (b cachedSingleBlock[N]) Type() attr.Type    { return b.typ }
func (b cachedSingleBlock[N]) GetNestedObject() N { return b.obj }

// framework is the block the wrapper caches for (validate_walk.go reads
// it).
func (b cachedSingleBlock[N]) framework() schema.Block { return b.SingleNestedBlock }

// cachedListBlock is a ListNestedBlock with its type and nested object
// computed once.
type cachedListBlock[N any] struct {
	schema.ListNestedBlock
	typ attr.Type
	obj N
}

func newCachedListBlock[N any](b schema.ListNestedBlock, _ func() N) cachedListBlock[N] {
	return cachedListBlock[N]{ListNestedBlock: b, typ: b.Type(), obj: cacheObject[N](b.NestedObject)}
}

func (b cachedListBlock[N]) Type() attr.Type    { return b.typ }
func (b cachedListBlock[N]) GetNestedObject() N { return b.obj }

// framework is the block the wrapper caches for.
func (b cachedListBlock[N]) framework() schema.Block { return b.ListNestedBlock }

// ApplyTerraform5AttributePathStep is the framework's (an element index
// leads to the nested object), leading to the cached object.
func (b cachedListBlock[N]) ApplyTerraform5AttributePathStep(step tftypes.AttributePathStep) (any, error) {
	if _, ok := step.(tftypes.ElementKeyInt); !ok {
		return nil, fmt.Errorf("cannot apply step %T to ListNestedBlock", step)
	}
	return b.obj, nil
}

// cachedObject is a nested block object with its attribute and block maps
// and its type computed once.
type cachedObject[A ~map[string]AV, AV any, B ~map[string]BV, BV any] struct {
	schema.NestedBlockObject
	attrs  A
	blocks B
	typ    basetypes.ObjectTypable
}

// cacheObject wraps o, as the framework's nested object interface N.
func cacheObject[N any](o schema.NestedBlockObject) N {
	return newCachedObject(o, o.GetAttributes(), o.GetBlocks()).(N)
}

func newCachedObject[A ~map[string]AV, AV any, B ~map[string]BV, BV any](o schema.NestedBlockObject, attrs A, blocks B) any {
	return cachedObject[A, AV, B, BV]{NestedBlockObject: o, attrs: attrs, blocks: blocks, typ: o.Type()}
}

func (o cachedObject[A, AV, B, BV]) GetAttributes() A              { return o.attrs }
func (o cachedObject[A, AV, B, BV]) GetBlocks() B                  { return o.blocks }
func (o cachedObject[A, AV, B, BV]) Type() basetypes.ObjectTypable { return o.typ }

// ApplyTerraform5AttributePathStep is the framework's (a name leads to
// the attribute or block of that name) on the cached maps.
func (o cachedObject[A, AV, B, BV]) ApplyTerraform5AttributePathStep(step tftypes.AttributePathStep) (any, error) {
	name, ok := step.(tftypes.AttributeName)
	if !ok {
		return nil, fmt.Errorf("cannot apply AttributePathStep %T to NestedBlockObject", step)
	}
	if a, ok := o.attrs[string(name)]; ok {
		return a, nil
	}
	if b, ok := o.blocks[string(name)]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no attribute or block %q on NestedBlockObject", name)
}

// cacheBlockTypes replaces every nested block of blocks, at every depth,
// with its caching wrapper. Types are built bottom-up, so each level
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
			out[name] = newCachedSingleBlock(b, b.GetNestedObject)
		case schema.ListNestedBlock:
			b.NestedObject.Blocks = cacheBlockTypes(b.NestedObject.Blocks)
			out[name] = newCachedListBlock(b, b.GetNestedObject)
		default:
			out[name] = b
		}
	}
	return out
}
