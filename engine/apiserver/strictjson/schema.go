package strictjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// shape is what the JSON for a Go type looks like, as far as the checks
// need: which keys an object may have, and what each holds.
type shape uint8

const (
	// opaque values are decoded by the type itself (json.Unmarshaler,
	// encoding.TextUnmarshaler, []byte) or are scalars: skipped whole.
	opaque   shape = iota
	object         // a struct: known, case-sensitive field names
	dict           // a map: any keys, each value of elem's schema
	list           // a slice or array of elem's schema
	anything       // an interface: any JSON, keys still unique
	ignored        // inside an opaque value: walked over, not checked
)

// ignore is the schema of everything inside an opaque value.
var ignore = &schema{shape: ignored}

// schema describes one Go type's JSON.
type schema struct {
	shape  shape
	typ    reflect.Type
	fields map[string]*field // object: JSON name -> field
	order  []*field          // object: fields in declaration order
	folded map[string]string // object: lower-case name -> JSON name
	elem   *schema           // dict, list
}

// field is one struct field as JSON sees it.
type field struct {
	name    string
	ordinal int // position in order, for the duplicate bitmap
	schema  *schema
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	schemas         sync.Map // reflect.Type -> *schema
)

// schemaOf returns the (cached) schema of t.
func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	s := build(t, map[reflect.Type]*schema{})
	schemas.Store(t, s)
	return s
}

// build follows encoding/json's rules: pointers are transparent, a type
// with its own unmarshaler is opaque, struct fields are named by their
// json tag (or Go name), untagged embedded structs lend their fields, and
// "-" and unexported fields do not exist.
func build(t reflect.Type, seen map[reflect.Type]*schema) *schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s // a recursive type: the schema being built
	}
	s := &schema{typ: t}
	seen[t] = s
	if decodesItself(t) {
		return s
	}
	switch t.Kind() {
	case reflect.Struct:
		s.shape = object
		s.fields, s.folded = map[string]*field{}, map[string]string{}
		addFields(s, t, seen)
	case reflect.Map:
		if k := t.Key(); k.Kind() == reflect.String || reflect.PointerTo(k).Implements(textUnmarshaler) {
			s.shape, s.elem = dict, build(t.Elem(), seen)
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 || decodesItself(t.Elem()) {
			s.shape, s.elem = list, build(t.Elem(), seen)
		} // []byte is a base64 string
	case reflect.Array:
		s.shape, s.elem = list, build(t.Elem(), seen)
	case reflect.Interface:
		s.shape = anything
	}
	return s
}

func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

// addFields adds t's fields to s: its own first, then those of untagged
// embedded structs that no shallower field shadows (encoding/json's rule).
func addFields(s *schema, t reflect.Type, seen map[reflect.Type]*schema) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct && !decodesItself(ft) {
			embedded = append(embedded, ft)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if slices.Contains(strings.Split(opts, ","), "string") {
			add(s, name, &schema{}) // a value quoted as a string: opaque, not checked alone
			continue
		}
		add(s, name, build(sf.Type, seen))
	}
	for _, et := range embedded {
		inner := &schema{fields: map[string]*field{}, folded: map[string]string{}}
		addFields(inner, et, seen)
		for _, f := range inner.order {
			if _, shadowed := s.fields[f.name]; !shadowed {
				add(s, f.name, f.schema)
			}
		}
	}
}

func add(s *schema, name string, fs *schema) {
	f := &field{name: name, ordinal: len(s.order), schema: fs}
	s.fields[name] = f
	s.order = append(s.order, f)
	s.folded[strings.ToLower(name)] = name
}
