package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// A description is drawn from a per-kind table of sections (describeKinds)
// by one renderer: the common metadata first, then the kind's sections, then
// the object's conditions and the tables read beside it (related objects,
// events). Fields name their value by a JSON path
// into the object as the API serves it, so the table says what to show and
// the renderer alone says how; fields whose value is computed from several
// others (a pod's status word, a deployment's replica counts) give a func.

// section is a titled group of fields; the untitled section continues the
// top level (Name:, Namespace: ...).
type section struct {
	title string
	// path, when set, skips the whole section if nothing is at it (a
	// pool's ssh settings on a local pool).
	path   string
	fields []field
}

// field is one line (or block) of a description.
type field struct {
	label string
	// path is a dotted JSON path into the object ("spec.rollout.maxSurge"),
	// or into the element for the fields of each.
	path string
	// show renders the value at path as lines (default: showValue).
	show func(v any) []string
	// of computes the lines from the object instead of a path.
	of func(o api.Object) []string
	// optional leaves the line out when there is no value (rather than
	// showing <none>).
	optional bool
	// each makes path a list of objects (containers): a sub-block per
	// element, titled by the element's name, made of these fields.
	each []field
	// join, with each, is the path of a list (container statuses) whose
	// element with the same name is put under the element's "status" key.
	join string
}

// describer writes a description: label/value lines aligned per block,
// indented two spaces a level, and tables.
type describer struct {
	w  io.Writer
	tw *tabwriter.Writer
}

func newDescriber(w io.Writer) *describer {
	return &describer{w: w, tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
}

// line writes a label and its value lines, the first beside the label and
// the others under it.
func (d *describer) line(level int, label string, values []string) {
	indent := strings.Repeat("  ", level)
	for i, v := range values {
		values[i] = strings.ReplaceAll(v, "\t", "  ") // a tab would start a new column
	}
	if len(values) == 0 {
		fmt.Fprintf(d.tw, "%s%s:\n", indent, label)
		return
	}
	fmt.Fprintf(d.tw, "%s%s:\t%s\n", indent, label, values[0])
	for _, v := range values[1:] {
		fmt.Fprintf(d.tw, "%s\t%s\n", indent, v)
	}
}

// describeTable is a titled table a description shows after the object's
// own fields (a pool's machines, the events); err says why it could not
// be read.
type describeTable struct {
	title   string
	headers []string
	rows    [][]string
	err     error
}

// table writes a titled table aligned on its own.
func (d *describer) table(t describeTable) {
	d.flush()
	switch {
	case t.err != nil:
		fmt.Fprintf(d.w, "%s:  <unknown: %v>\n", t.title, t.err)
		return
	case len(t.rows) == 0:
		fmt.Fprintf(d.w, "%s:  <none>\n", t.title)
		return
	}
	fmt.Fprintf(d.w, "%s:\n", t.title)
	tw := tabwriter.NewWriter(d.w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", strings.Join(t.headers, "\t"))
	for _, r := range t.rows {
		fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func (d *describer) flush() { _ = d.tw.Flush() }

// toDoc is the object as the API serves it, as generic JSON (numbers kept
// exact).
func toDoc(o api.Object) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// lookup follows a dotted path; nil when any step is missing.
func lookup(doc any, path string) any {
	for _, key := range strings.Split(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[key]
	}
	return doc
}

// sections writes the given sections of one object.
func (d *describer) sections(o api.Object, doc map[string]any, secs []section) {
	for _, s := range secs {
		if s.path != "" && isEmpty(lookup(doc, s.path)) {
			continue
		}
		level := 0
		if s.title != "" {
			d.line(0, s.title, nil)
			level = 1
		}
		d.fields(level, o, doc, s.fields)
	}
}

// fields writes fields of obj (the object or, under each, one element).
func (d *describer) fields(level int, o api.Object, obj map[string]any, fs []field) {
	for _, f := range fs {
		if f.each != nil {
			d.each(level, o, obj, f)
			continue
		}
		var values []string
		if f.of != nil {
			values = f.of(o)
		} else if v := lookup(obj, f.path); f.show != nil {
			values = f.show(v)
		} else {
			values = showValue(v)
		}
		if len(values) == 0 {
			if f.optional {
				continue
			}
			values = []string{"<none>"}
		}
		d.line(level, f.label, values)
	}
}

// each writes one sub-block per element of the list at f.path.
func (d *describer) each(level int, o api.Object, obj map[string]any, f field) {
	list, _ := lookup(obj, f.path).([]any)
	if len(list) == 0 {
		if !f.optional {
			d.line(level, f.label, []string{"<none>"})
		}
		return
	}
	joined := map[string]any{}
	if f.join != "" {
		others, _ := lookup(obj, f.join).([]any)
		for _, e := range others {
			if m, ok := e.(map[string]any); ok {
				joined[fmt.Sprint(m["name"])] = m
			}
		}
	}
	d.line(level, f.label, nil)
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name := fmt.Sprint(m["name"])
		if m["name"] == nil {
			name = fmt.Sprintf("[%d]", i)
		}
		if st, ok := joined[name]; ok {
			m = maps.Clone(m)
			m["status"] = st
		}
		d.line(level+1, name, nil)
		d.fields(level+2, o, m, f.each)
	}
}

func isEmpty(v any) bool { return len(showValue(v)) == 0 }

// showValue renders any JSON value: scalars as they are, maps as sorted
// key=value lines, lists of scalars joined by commas, lists of objects one
// compact line each. Nothing, "" and empty collections render as no lines.
func showValue(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return strings.Split(strings.TrimRight(x, "\n"), "\n")
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		lines := make([]string, 0, len(x))
		for k, e := range x {
			lines = append(lines, k+"="+compact(e))
		}
		sort.Strings(lines)
		return lines
	case []any:
		if len(x) == 0 {
			return nil
		}
		var scalars, lines []string
		for _, e := range x {
			if _, ok := e.(map[string]any); ok {
				lines = append(lines, compact(e))
			} else {
				scalars = append(scalars, compact(e))
			}
		}
		if len(scalars) > 0 {
			lines = append([]string{strings.Join(scalars, ",")}, lines...)
		}
		return lines
	}
	return []string{compact(v)}
}

// compact renders a value on one line: objects as "k=v, k=v" with nested
// keys dotted.
func compact(v any) string {
	switch x := v.(type) {
	case map[string]any:
		var parts []string
		flatten("", x, &parts)
		sort.Strings(parts)
		return strings.Join(parts, ", ")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = compact(e)
		}
		return "[" + strings.Join(parts, "; ") + "]"
	case string:
		return strings.ReplaceAll(x, "\n", `\n`)
	}
	return fmt.Sprint(v)
}

func flatten(prefix string, m map[string]any, parts *[]string) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, parts)
			continue
		}
		*parts = append(*parts, prefix+k+"="+compact(v))
	}
}

// showCompact renders a value on one line (a probe, an affinity).
func showCompact(v any) []string {
	if isEmpty(v) {
		return nil
	}
	return []string{compact(v)}
}

// showList renders a list a line per element (a command and its args).
func showList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = compact(e)
	}
	return out
}

// showBool renders a flag the API leaves out when false.
func showBool(v any) []string {
	if b, ok := v.(bool); ok && b {
		return []string{"true"}
	}
	return []string{"false"}
}

// showTime renders an RFC 3339 time with its age: "2026-12-02T14:00:05Z (5m ago)".
func showTime(v any) []string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return showValue(v)
	}
	return []string{formatTime(t)}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), age(t))
}

// showSeconds renders a duration given in seconds: "300s".
func showSeconds(v any) []string {
	if v == nil {
		return nil
	}
	return []string{compact(v) + "s"}
}

// showSizes renders a map of base64 values (secret data) as its keys and
// the size of each value, never the value.
func showSizes(v any) []string {
	m, _ := v.(map[string]any)
	lines := make([]string, 0, len(m))
	for k, e := range m {
		s, _ := e.(string)
		n := len(s) / 4 * 3
		switch {
		case strings.HasSuffix(s, "=="):
			n -= 2
		case strings.HasSuffix(s, "="):
			n--
		}
		lines = append(lines, fmt.Sprintf("%s: %d bytes", k, n))
	}
	sort.Strings(lines)
	return lines
}

// showCount renders how many entries a list has.
func showCount(v any) []string {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return []string{fmt.Sprint(len(l))}
	}
	return nil
}

// showEach renders every element of a list with one function, a line each.
func showEach(line func(m map[string]any) string) func(v any) []string {
	return func(v any) []string {
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				out = append(out, line(m))
			}
		}
		return out
	}
}

// str is the value at key of a JSON object as a string, strings as they
// are ("" when absent).
func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return compact(v)
	}
}
