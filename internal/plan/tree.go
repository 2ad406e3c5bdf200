package plan

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Attribute trees: comparing them, and finding values by path. A path is
// dotted attribute names with list indices ("spec.template.container[0].image");
// AttrPath drops the indices ("spec.template.container.image"), which is
// how ForceNew and Sensitive name attributes.

// Absent reports whether v says nothing: nil, "", an empty map or list.
// The API omits such values, so a manifest's `value = ""` and a live
// object's missing field are the same.
func Absent(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		for _, e := range x {
			if !Absent(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

// Equal reports whether a and b, found at path, mean the same: absent
// values are equal, numbers compare by value whatever their Go type, and
// quantities ("1000m", "1") by amount.
func Equal(path string, a, b any) bool {
	if Absent(a) && Absent(b) {
		return true
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for _, k := range Keys(x, y) {
			if !Equal(Join(path, k), x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && (x == y || quantityEqual(path, x, y))
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x.Cmp(y) == 0
	}
	return false
}

// Changed lists the paths (with indices) where before and after differ,
// as deep as both sides have structure: a block added or removed is one
// path, a changed leaf is its own path.
func Changed(before, after map[string]any) []string {
	var out []string
	diffInto(&out, "", before, after)
	return out
}

func diffInto(out *[]string, path string, a, b any) {
	if Equal(path, a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for _, k := range Keys(am, bm) {
			diffInto(out, Join(path, k), am[k], bm[k])
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && IsBlockList(al) && IsBlockList(bl) {
		for i := range max(len(al), len(bl)) {
			diffInto(out, fmt.Sprintf("%s[%d]", path, i), at(al, i), at(bl, i))
		}
		return
	}
	*out = append(*out, path)
}

// Lookup finds the value at an attribute path (no indices) in a tree;
// through a list of blocks it gives the list of each block's value.
func Lookup(tree map[string]any, attrPath string) any {
	var cur any = tree
	for _, name := range strings.Split(attrPath, ".") {
		cur = step(cur, name)
	}
	return cur
}

func step(v any, name string) any {
	switch x := v.(type) {
	case map[string]any:
		return x[name]
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = step(e, name)
		}
		return out
	}
	return nil
}

// LookupIndexed finds the value at a path with list indices
// ("spec.container[1].name"), as Changed gives them; nil when absent.
func LookupIndexed(tree map[string]any, path string) any {
	var cur any = tree
	for _, seg := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		cur = step(cur, name)
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			l, _ := cur.([]any)
			i, err := strconv.Atoi(idx)
			if err != nil || i < 0 || i >= len(l) {
				return nil
			}
			cur, rest = l[i], strings.TrimPrefix(after, "[")
		}
	}
	return cur
}

// AttrPath drops list indices from a path: "a.b[0].c" -> "a.b.c".
func AttrPath(path string) string {
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Under reports whether attribute path p is path q or inside it.
func Under(p, q string) bool {
	return p == q || strings.HasPrefix(p, q+".")
}

// IsBlockList reports whether a list holds blocks (maps) rather than
// plain values.
func IsBlockList(l []any) bool {
	if len(l) == 0 {
		return false
	}
	for _, e := range l {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func at(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// Join appends an attribute name to a path.
func Join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Keys is the sorted union of two maps' keys.
func Keys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// number reads any of the JSON-like number types exactly.
func number(v any) (*big.Rat, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		return new(big.Rat).SetFloat64(x), true
	case float32:
		return new(big.Rat).SetFloat64(float64(x)), true
	case int:
		return new(big.Rat).SetInt64(int64(x)), true
	case int32:
		return new(big.Rat).SetInt64(int64(x)), true
	case int64:
		return new(big.Rat).SetInt64(x), true
	default:
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// Int reads a whole number from a tree value (a number, or a string of
// digits as Terraform's string attributes hold them).
func Int(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		v = json.Number(s)
	}
	r, ok := number(v)
	if !ok || !r.IsInt() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// quantityNames are the attributes holding resource quantities.
var quantityNames = map[string]bool{"cpu": true, "memory": true, "ephemeral_storage": true,
	"size_limit": true, "average_value": true, "capacity": true}

// quantityEqual compares two strings as quantities when the attribute
// holds one ("1000m" equals "1").
func quantityEqual(path, a, b string) bool {
	p := AttrPath(path)
	name := p[strings.LastIndex(p, ".")+1:]
	if !quantityNames[name] && !strings.Contains(p, "resources.") {
		return false
	}
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	return err == nil && qa.Equal(qb)
}
