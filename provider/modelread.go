package provider

import (
	"context"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Reading a configuration into a resource's model.
//
// The framework's Get reflects over the model afresh for every value:
// it reads a struct's tfsdk tags at every level of every call, checking
// each tag against a regular expression it compiles each time, and builds
// each value through a path from the root. A deployment's ValidateConfig
// spent most of its time there, at every plan. readConfig does what Get
// does for the models this provider has (structs of framework values,
// pointers to structs for single blocks, slices of structs for lists of
// blocks, embedded structs), with each struct's tags read once; anything
// else, or any value Get would refuse (an unknown list of blocks), is left
// to Get, which then says why. The acceptance tests read every
// configuration both ways and fail on any difference (shadowModelReads).

// readConfig reads config into target, as config.Get(ctx, target) does,
// and reports whether it could: not with an error (added to diags), nor
// while a block is known only after apply (unknownBlocks), which a model
// cannot hold. The checks that need the model then wait for the values:
// the plan made once they are known, and the API server at apply.
func readConfig[M any](ctx context.Context, config tfsdk.Config, target *M, diags *diag.Diagnostics) bool {
	if unknownBlocks(config.Raw) {
		return false
	}
	var m M
	if config.Schema == nil || !readValue(ctx, config.Schema.Type(), config.Raw, reflect.ValueOf(&m).Elem()) {
		d := config.Get(ctx, target)
		diags.Append(d...)
		return !d.HasError()
	}
	if checkModelRead != nil {
		var framework M
		d := config.Get(ctx, &framework)
		checkModelRead(reflect.TypeFor[M]().Name(), m, framework, d)
	}
	*target = m
	return true
}

// unknownBlocks reports whether v holds a block or a list of blocks known
// only after apply: what a dynamic block makes of a for_each whose value
// is not known yet. A model holds blocks as Go pointers and slices, which
// cannot say "unknown", so the framework refuses to read such a value into
// it ("Value Conversion Error").
func unknownBlocks(v tftypes.Value) bool {
	if v.IsFullyKnown() {
		return false
	}
	found := false
	_ = tftypes.Walk(v, func(_ *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if !v.IsKnown() && holdsObjects(v.Type()) {
			found = true
		}
		return !found, nil
	})
	return found
}

// holdsObjects: t is an object or a collection of them.
func holdsObjects(t tftypes.Type) bool {
	switch t := t.(type) {
	case tftypes.Object:
		return true
	case tftypes.List:
		return holdsObjects(t.ElementType)
	case tftypes.Set:
		return holdsObjects(t.ElementType)
	case tftypes.Map:
		return holdsObjects(t.ElementType)
	}
	return false
}

// checkModelRead, when set (tests), is given every model read without the
// framework next to the framework's reading of the same value.
var checkModelRead func(model string, ours, framework any, diags diag.Diagnostics)

var (
	attrValueType = reflect.TypeFor[attr.Value]()
	// structTags are the tfsdk tags of each model struct (nil: a struct
	// readValue leaves to the framework), by type.
	structTags sync.Map
)

// readValue sets target to val of type typ; false when it is left to the
// framework.
func readValue(ctx context.Context, typ attr.Type, val tftypes.Value, target reflect.Value) bool {
	t := target.Type()
	if t.Implements(attrValueType) {
		v, err := typ.ValueFromTerraform(ctx, val)
		if err != nil || v == nil {
			return false
		}
		rv := reflect.ValueOf(v)
		if rv.Type() != t {
			return false
		}
		target.Set(rv)
		return true
	}
	if !val.IsKnown() {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		if val.IsNull() {
			target.SetZero()
			return true
		}
		p := reflect.New(t.Elem())
		if !readValue(ctx, typ, val, p.Elem()) {
			return false
		}
		target.Set(p)
		return true
	case reflect.Slice:
		if val.IsNull() {
			target.SetZero()
			return true
		}
		et, ok := typ.(attr.TypeWithElementType)
		if !ok {
			return false
		}
		var elems []tftypes.Value
		if val.As(&elems) != nil {
			return false
		}
		s := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if !readValue(ctx, et.ElementType(), e, s.Index(i)) {
				return false
			}
		}
		target.Set(s)
		return true
	case reflect.Struct:
		if val.IsNull() {
			return false
		}
		tags := tagsOf(t)
		at, ok := typ.(attr.TypeWithAttributeTypes)
		if tags == nil || !ok {
			return false
		}
		types := at.AttributeTypes()
		if len(types) != len(tags) {
			return false
		}
		var attrs map[string]tftypes.Value
		if val.As(&attrs) != nil {
			return false
		}
		for name, index := range tags {
			ty, ok := types[name]
			if !ok || !readValue(ctx, ty, attrs[name], target.FieldByIndex(index)) {
				return false
			}
		}
		return true
	}
	return false
}

// tagsOf is the field of each tfsdk tag of struct t, embedded structs'
// fields included, as the framework finds them; nil when the framework
// would refuse them.
func tagsOf(t reflect.Type) map[string][]int {
	if tags, ok := structTags.Load(t); ok {
		return tags.(map[string][]int)
	}
	tags := map[string][]int{}
	if !collectTags(t, nil, tags) {
		tags = nil
	}
	structTags.Store(t, tags)
	return tags
}

func collectTags(t reflect.Type, prefix []int, tags map[string][]int) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		index := append(append([]int{}, prefix...), i)
		tag, ok := f.Tag.Lookup("tfsdk")
		switch {
		case tag == "-":
			continue
		case f.Anonymous:
			if ok || f.Type.Kind() != reflect.Struct || !collectTags(f.Type, index, tags) {
				return false
			}
			continue
		case !ok || !validTag(tag):
			return false
		}
		if _, dup := tags[tag]; dup {
			return false
		}
		tags[tag] = index
	}
	return true
}

// validTag is the framework's rule for a tag: ^[a-z][a-z0-9_]*$.
func validTag(tag string) bool {
	for i, c := range tag {
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return false
		}
	}
	return tag != ""
}
