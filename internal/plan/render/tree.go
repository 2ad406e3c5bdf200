package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/internal/plan"
)

// The body of one resource in Terraform's notation. Every line is a marker
// ("+", "-", "~", " ", or "-/+" on the resource line) right-aligned in a
// column before the text, with children four columns further in:
//
//	  ~ resource "deployment" "web" {
//	      ~ spec {
//	          ~ replicas = 2 -> 3
//	        }
//	    }

// Modes of a subtree: everything created, everything destroyed, or a diff.
const (
	modeCreate = "+"
	modeDelete = "-"
	modeUpdate = "~"
)

// printer collects the lines of one resource.
type printer struct {
	c     *plan.Change
	color bool
	lines []string
}

var colors = map[string]string{"+": "\x1b[32m", "-": "\x1b[31m", "~": "\x1b[33m", "-/+": "\x1b[31m"}

// emit adds a line with the marker right-aligned to column indent.
func (p *printer) emit(indent int, marker, text string) {
	m := fmt.Sprintf("%*s", indent+1, marker)
	if c, ok := colors[marker]; ok && p.color {
		m = strings.TrimSuffix(m, marker) + c + marker + "\x1b[0m"
	}
	p.lines = append(p.lines, m+" "+text)
}

// resourceLines renders a whole change (not a no-op).
func resourceLines(c *plan.Change, color bool) []string {
	p := &printer{c: c, color: color}
	typ, name := splitAddress(c.Address)
	p.lines = append(p.lines, "  # "+c.Address+" "+headline(c.Action))
	marker, mode := modeUpdate, modeUpdate
	switch c.Action {
	case plan.Create:
		marker, mode = modeCreate, modeCreate
	case plan.Delete:
		marker, mode = modeDelete, modeDelete
	case plan.Replace:
		marker = "-/+"
	}
	p.emit(2, marker, fmt.Sprintf("resource %q %q {", typ, name))
	p.body(6, "", c.Before, c.After, mode)
	p.emit(2, " ", "}")
	return p.lines
}

func headline(a plan.Action) string {
	switch a {
	case plan.Create:
		return "will be created"
	case plan.Delete:
		return "will be destroyed"
	case plan.Replace:
		return "must be replaced"
	}
	return "will be updated in-place"
}

// splitAddress turns "module.m.maestro_deployment.web[0]" or
// "deployment.web" into its type and name.
func splitAddress(addr string) (typ, name string) {
	for strings.HasPrefix(addr, "module.") {
		rest := strings.TrimPrefix(addr, "module.")
		i := strings.Index(rest, ".")
		if i < 0 {
			break
		}
		addr = rest[i+1:]
	}
	typ, name, _ = strings.Cut(addr, ".")
	if i := strings.Index(name, "["); i >= 0 {
		name = name[:i]
	}
	return typ, name
}

// identifying attributes are shown in a diff even when unchanged, so a
// reader knows which object a block belongs to.
var identifying = map[string]bool{"id": true, "name": true, "namespace": true}

// body prints a block's attributes, then its nested blocks, at indent.
func (p *printer) body(indent int, path string, before, after map[string]any, mode string) {
	var attrs, blocks []string
	for _, k := range plan.Keys(before, after) {
		v := after[k]
		if v == nil {
			v = before[k]
		}
		if isBlock(k, v) {
			blocks = append(blocks, k)
		} else {
			attrs = append(attrs, k)
		}
	}
	var shown []string
	hiddenAttrs := 0
	for _, k := range attrs {
		b, a := before[k], after[k]
		switch {
		case mode == modeCreate && plan.Absent(a), mode == modeDelete && plan.Absent(b):
		case mode == modeUpdate && plan.Absent(a) && plan.Absent(b):
		case mode == modeUpdate && plan.Equal(plan.Join(path, k), b, a) && !identifying[k]:
			hiddenAttrs++
		default:
			shown = append(shown, k)
		}
	}
	// As Terraform, names align over every attribute the block has, shown
	// or hidden, and a blank line sets each block apart.
	width := 0
	for _, k := range attrs {
		if !plan.Absent(before[k]) || !plan.Absent(after[k]) {
			width = max(width, len(k))
		}
	}
	start := len(p.lines)
	for _, k := range shown {
		p.attr(indent, plan.Join(path, k), fmt.Sprintf("%-*s", width, k), before[k], after[k], mode)
	}
	if hiddenAttrs > 0 {
		p.emit(indent, " ", fmt.Sprintf("# (%s hidden)", unchanged(hiddenAttrs, "attribute")))
	}
	hiddenBlocks := 0
	for _, k := range blocks {
		hiddenBlocks += p.blocks(indent, plan.Join(path, k), k, before[k], after[k], mode, start)
	}
	if hiddenBlocks > 0 {
		p.separate(start)
		p.emit(indent, " ", fmt.Sprintf("# (%s hidden)", unchanged(hiddenBlocks, "block")))
	}
}

// separate adds a blank line when the body begun at start has lines.
func (p *printer) separate(start int) {
	if len(p.lines) > start {
		p.lines = append(p.lines, "")
	}
}

func unchanged(n int, what string) string {
	if n == 1 {
		return "1 unchanged " + what
	}
	return fmt.Sprintf("%d unchanged %ss", n, what)
}

// attr prints one attribute; name is padded for alignment.
func (p *printer) attr(indent int, path, name string, b, a any, mode string) {
	force := ""
	if p.c.ForcesReplacement(path) {
		force = " # forces replacement"
	}
	switch {
	case mode == modeCreate || mode == modeUpdate && plan.Absent(b):
		p.value(indent, modeCreate, name, path, a, force)
	case mode == modeDelete || plan.Absent(a):
		p.value(indent, modeDelete, name, path, b, " -> null"+force)
	case p.c.IsSensitive(path):
		p.emit(indent, modeUpdate, name+" = "+plan.SensitiveValue+force)
	case plan.Equal(path, b, a):
		p.emit(indent, " ", name+" = "+format(a))
	default:
		bm, bok := b.(map[string]any)
		am, aok := a.(map[string]any)
		if bok && aok {
			p.mapDiff(indent, path, name, bm, am, force)
			return
		}
		p.emit(indent, modeUpdate, name+" = "+format(b)+" -> "+format(a)+force)
	}
}

// value prints an attribute created or destroyed as a whole.
func (p *printer) value(indent int, marker, name, path string, v any, suffix string) {
	if p.c.IsSensitive(path) {
		p.emit(indent, marker, name+" = "+plan.SensitiveValue+suffix)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.emit(indent, marker, name+" = "+format(v)+suffix)
		return
	}
	p.emit(indent, marker, name+" = {")
	ks := plan.Keys(m, nil)
	width := 0
	for _, k := range ks {
		width = max(width, len(strconv.Quote(k)))
	}
	for _, k := range ks {
		p.emit(indent+4, marker, fmt.Sprintf("%-*s = %s", width, strconv.Quote(k), format(m[k])))
	}
	p.emit(indent, " ", "}"+suffix)
}

// mapDiff prints a changed map attribute key by key.
func (p *printer) mapDiff(indent int, path, name string, b, a map[string]any, force string) {
	p.emit(indent, modeUpdate, name+" = {"+force)
	ks := plan.Keys(b, a)
	width, hidden := 0, 0
	for _, k := range ks {
		width = max(width, len(strconv.Quote(k)))
	}
	for _, k := range ks {
		key := fmt.Sprintf("%-*s", width, strconv.Quote(k))
		bv, av := b[k], a[k]
		switch {
		case plan.Equal(plan.Join(path, k), bv, av):
			if !plan.Absent(av) {
				hidden++
			}
		case plan.Absent(bv):
			p.emit(indent+4, modeCreate, key+" = "+format(av))
		case plan.Absent(av):
			p.emit(indent+4, modeDelete, key+" = "+format(bv)+" -> null")
		default:
			p.emit(indent+4, modeUpdate, key+" = "+format(bv)+" -> "+format(av))
		}
	}
	if hidden > 0 {
		p.emit(indent+4, " ", fmt.Sprintf("# (%s hidden)", unchanged(hidden, "element")))
	}
	p.emit(indent, " ", "}")
}

// blocks prints a single block or a list of blocks named name; it returns
// how many unchanged blocks it hid.
func (p *printer) blocks(indent int, path, name string, b, a any, mode string, start int) int {
	bl, al := asBlocks(b), asBlocks(a)
	_, list := b.([]any)
	if _, ok := a.([]any); ok {
		list = true
	}
	hidden := 0
	for i := range max(len(bl), len(al)) {
		ep := path
		if list {
			ep = fmt.Sprintf("%s[%d]", path, i)
		}
		hidden += p.block(indent, ep, name, at(bl, i), at(al, i), mode, start)
	}
	return hidden
}

// block prints one block; it returns 1 when it hid it as unchanged.
func (p *printer) block(indent int, path, name string, b, a map[string]any, mode string, start int) int {
	switch {
	case mode == modeCreate && a == nil, mode == modeDelete && b == nil:
		return 0
	case mode == modeUpdate && b == nil && a == nil:
		return 0
	case mode == modeUpdate && b == nil:
		mode = modeCreate
	case mode == modeUpdate && a == nil:
		mode = modeDelete
	case mode == modeUpdate && plan.Equal(path, b, a):
		return 1
	}
	force := ""
	if p.c.ForcesReplacement(path) {
		force = " # forces replacement"
	}
	p.separate(start)
	if (mode == modeCreate && plan.Absent(a)) || (mode == modeDelete && plan.Absent(b)) {
		p.emit(indent, mode, name+" {}"+force)
		return 0
	}
	p.emit(indent, mode, name+" {"+force)
	p.body(indent+4, path, b, a, mode)
	p.emit(indent, " ", "}")
	return 0
}

// mapAttrs are the attributes that hold maps (labels = { ... }), as
// opposed to blocks (metadata { ... }): the trees do not say which is
// which, the schema's names do.
var mapAttrs = map[string]bool{"labels": true, "annotations": true, "match_labels": true, "node_selector": true,
	"selector": true, "data": true, "data_wo": true, "string_data": true, "binary_data": true, "tags": true,
	"template_capacity": true}

// isBlock reports whether the value named name is a block or a list of
// blocks rather than an attribute.
func isBlock(name string, v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if !mapAttrs[name] {
			return true
		}
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return true // a map attribute holds plain values
			}
		}
		return false
	case []any:
		return plan.IsBlockList(x)
	}
	return false
}

// asBlocks is a block value as a list of blocks (a single block is one).
func asBlocks(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			m, _ := e.(map[string]any)
			out = append(out, m)
		}
		return out
	}
	return nil
}

func at(l []map[string]any, i int) map[string]any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// format prints a plain value as HCL would.
func format(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == plan.Unknown || x == plan.SensitiveValue {
			return x
		}
		return strconv.Quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = format(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		ks := plan.Keys(x, nil)
		parts := make([]string, len(ks))
		for i, k := range ks {
			parts[i] = strconv.Quote(k) + " = " + format(x[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
