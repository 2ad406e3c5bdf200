package convert

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/internal/schema"
)

// Error is a conversion failure at one attribute.
type Error struct {
	// Path is the attribute path with list indices:
	// "spec.template.container[0].resources.requests.cpu".
	Path   string
	Detail string
}

func (e *Error) Error() string { return e.Path + ": " + e.Detail }

// Errors are every failure of one conversion.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// ToObject converts a manifest block's value (decoded with schema.Spec)
// into the API object the provider's expand would build on create.
func ToObject(kind string, v cty.Value) (api.Object, error) {
	attrs, err := FromCty(v)
	if err != nil {
		return nil, err
	}
	return FromAttrs(kind, attrs)
}

// FromAttrs converts an attribute tree into the kind's API object.
func FromAttrs(kind string, attrs map[string]any) (api.Object, error) {
	conv, ok := converters[kind]
	if !ok {
		return nil, fmt.Errorf("convert: unknown kind %q (known: %s)", kind, strings.Join(schema.Kinds(), ", "))
	}
	var errs Errors
	r := &reader{m: attrs, errs: &errs}
	obj := conv.from(r)
	r.done()
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		return nil, errs
	}
	api.SetTypeMeta(obj)
	return obj, nil
}

// ToAttrs converts an API object into the kind's attribute tree, as the
// provider's flatten would on import: server-owned fields and maestro's
// own labels and annotations stay out.
func ToAttrs(kind string, obj api.Object) (map[string]any, error) {
	conv, ok := converters[kind]
	if !ok {
		return nil, fmt.Errorf("convert: unknown kind %q", kind)
	}
	if want := schema.APIKind(kind); api.KindOf(obj) == nil || api.KindOf(obj).Kind != want {
		return nil, fmt.Errorf("convert: %s wants a %s object, got %T", kind, want, obj)
	}
	out := map[string]any{}
	conv.to(obj, out)
	return out, nil
}

// converter is one kind's pair of conversions.
type converter struct {
	from func(r *reader) api.Object
	to   func(obj api.Object, out map[string]any)
}

var converters = map[string]converter{}

// FromCty turns a decoded cty value into an attribute tree. Nulls are left
// out; unknown values are an error (a manifest has none).
func FromCty(v cty.Value) (map[string]any, error) {
	out, err := fromCty(v, "")
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func fromCty(v cty.Value, path string) (any, error) {
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsKnown() {
		return nil, Errors{{Path: path, Detail: "value is not known"}}
	}
	v, _ = v.Unmark()
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString(), nil
	case t == cty.Bool:
		return v.True(), nil
	case t == cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return i, nil
			}
		}
		f, _ := bf.Float64()
		return f, nil
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			e, err := fromCty(ev, joinPath(path, k.AsString()))
			if err != nil {
				return nil, err
			}
			if e != nil {
				out[k.AsString()] = e
			}
		}
		if t.IsObjectType() && len(out) == 0 && path != "" {
			return map[string]any{}, nil // an empty block is still a block
		}
		return out, nil
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := []any{}
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			e, err := fromCty(ev, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, Errors{{Path: path, Detail: "unsupported value type " + t.FriendlyName()}}
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// --- reading an attribute tree ----------------------------------------------

// reader reads one block of an attribute tree, recording errors with
// their paths and which attributes it used: anything left over is an
// attribute this converter does not know, reported rather than dropped.
type reader struct {
	path string
	m    map[string]any
	used map[string]bool
	errs *Errors
}

func (r *reader) fail(name, format string, args ...any) {
	*r.errs = append(*r.errs, &Error{Path: joinPath(r.path, name), Detail: fmt.Sprintf(format, args...)})
}

func (r *reader) get(name string) (any, bool) {
	if r.used == nil {
		r.used = map[string]bool{}
	}
	r.used[name] = true
	v, ok := r.m[name]
	return v, ok && v != nil
}

// ignore marks attributes the object does not hold (Terraform's own, such
// as wait_for_rollout).
func (r *reader) ignore(names ...string) {
	for _, n := range names {
		r.get(n)
	}
}

// done reports attributes nobody read.
func (r *reader) done() {
	var extra []string
	for k := range r.m {
		if !r.used[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		r.fail(k, "not supported by maestro's conversion of this kind (the provider's schema has it, the CLI does not yet)")
	}
}

func (r *reader) str(name string) string {
	v, ok := r.get(name)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail(name, "must be a string, got %v", v)
	}
	return s
}

// optStr is a string that may be absent (nil).
func (r *reader) optStr(name string) *string {
	if _, ok := r.m[name]; !ok || r.m[name] == nil {
		r.get(name)
		return nil
	}
	s := r.str(name)
	return &s
}

func (r *reader) integer(name string) (int64, bool) {
	v, ok := r.get(name)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	r.fail(name, "must be a whole number, got %v", v)
	return 0, false
}

func (r *reader) int32(name string) int32 {
	n, _ := r.integer(name)
	if n > 1<<31-1 || n < -(1<<31) {
		r.fail(name, "%d is out of range", n)
	}
	return int32(n)
}

func (r *reader) int32Ptr(name string) *int32 {
	if n, ok := r.integer(name); ok {
		return api.Ptr(int32(n))
	}
	return nil
}

func (r *reader) int64Ptr(name string) *int64 {
	if n, ok := r.integer(name); ok {
		return api.Ptr(n)
	}
	return nil
}

func (r *reader) boolean(name string) bool {
	v, ok := r.get(name)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		r.fail(name, "must be true or false, got %v", v)
	}
	return b
}

func (r *reader) strMap(name string) map[string]string {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		r.fail(name, "must be a map of strings")
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, isStr := e.(string)
		if !isStr {
			r.fail(name+"."+k, "must be a string, got %v", e)
		}
		out[k] = s
	}
	return out
}

func (r *reader) strList(name string) []string {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		r.fail(name, "must be a list of strings")
		return nil
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, isStr := e.(string)
		if !isStr {
			r.fail(fmt.Sprintf("%s[%d]", name, i), "must be a string, got %v", e)
		}
		out[i] = s
	}
	return out
}

// quantity parses a resource quantity ("500m", "1Gi").
func (r *reader) quantity(name string) *resource.Quantity {
	s := r.optStr(name)
	if s == nil {
		return nil
	}
	q, err := resource.ParseQuantity(*s)
	if err != nil {
		r.fail(name, "%q is not a quantity (like 500m, 1.5, 512Mi or 1G): %v", *s, err)
		return nil
	}
	return &q
}

// block reads a single nested block; nil when absent. The caller calls
// done on it.
func (r *reader) block(name string) *reader {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		r.fail(name, "must be a block")
		return nil
	}
	return &reader{path: joinPath(r.path, name), m: m, errs: r.errs}
}

// blocks reads a repeated block.
func (r *reader) blocks(name string) []*reader {
	v, ok := r.get(name)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		r.fail(name, "must be a list of blocks")
		return nil
	}
	out := make([]*reader, 0, len(l))
	for i, e := range l {
		m, isMap := e.(map[string]any)
		if !isMap {
			r.fail(fmt.Sprintf("%s[%d]", name, i), "must be a block")
			continue
		}
		out = append(out, &reader{path: fmt.Sprintf("%s[%d]", joinPath(r.path, name), i), m: m, errs: r.errs})
	}
	return out
}

// each runs f on every block of a repeated block, then checks it.
func (r *reader) each(name string, f func(*reader)) {
	for _, b := range r.blocks(name) {
		f(b)
		b.done()
	}
}

// with runs f on a single block when present, then checks it.
func (r *reader) with(name string, f func(*reader)) bool {
	b := r.block(name)
	if b == nil {
		return false
	}
	f(b)
	b.done()
	return true
}

// --- writing an attribute tree -------------------------------------------------

// Writers leave zero values out: an attribute tree has no nulls.

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// strBlock is a block of string attributes, given as name, value pairs.
func strBlock(kv ...string) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		setStr(m, kv[i], kv[i+1])
	}
	return m
}

func setInt(m map[string]any, k string, v int64) { m[k] = v }

func setIntPtr[T ~int32 | ~int64](m map[string]any, k string, v *T) {
	if v != nil {
		m[k] = int64(*v)
	}
}

func setMap(m map[string]any, k string, v map[string]string) {
	if len(v) == 0 {
		return
	}
	out := make(map[string]any, len(v))
	for kk, vv := range v {
		out[kk] = vv
	}
	m[k] = out
}

func setList(m map[string]any, k string, v []string) {
	if len(v) == 0 {
		return
	}
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	m[k] = out
}

func setBlock(m map[string]any, k string, b map[string]any) {
	if b != nil {
		m[k] = b
	}
}

func setBlocks(m map[string]any, k string, bs []any) {
	if len(bs) > 0 {
		m[k] = bs
	}
}

func setQuantity(m map[string]any, k string, q *resource.Quantity) {
	if q != nil {
		m[k] = q.String()
	}
}

// errorsAs extracts conversion errors (for callers mapping paths).
func errorsAs(err error) (Errors, bool) {
	var es Errors
	ok := errors.As(err, &es)
	return es, ok
}
