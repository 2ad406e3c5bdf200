package manifest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyconvert "github.com/zclconf/go-cty/cty/convert"

	"github.com/maestro-dev/maestro/internal/convert"
	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/schema"
)

// loader holds what the files declare while a Load runs.
type loader struct {
	variables map[string]*variable
	locals    map[string]*hcl.Attribute
	objects   map[string]*object // by address

	varValues   map[string]cty.Value
	localValues map[string]cty.Value
	objValues   map[string]map[string]cty.Value // kind -> name -> value
	// kindValues caches cty.ObjectVal(objValues[kind]) (building an
	// object value computes its type: costly for hundreds of objects).
	kindValues map[string]cty.Value
	deps       map[node][]node
	resources  []plan.Resource
}

type variable struct {
	block   *hcl.Block
	typ     cty.Type
	def     hcl.Expression // nil: required
	typeSet bool
}

type object struct {
	kind, name string
	block      *hcl.Block
}

func newLoader() *loader {
	return &loader{
		variables: map[string]*variable{}, locals: map[string]*hcl.Attribute{}, objects: map[string]*object{},
		varValues: map[string]cty.Value{}, localValues: map[string]cty.Value{}, objValues: map[string]map[string]cty.Value{},
		kindValues: map[string]cty.Value{},
	}
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "default"}, {Name: "type"}, {Name: "description"}, {Name: "sensitive"},
}}

// index records the blocks of one file, refusing duplicates.
func (l *loader) index(body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(topSchema())
	for _, d := range diags {
		if d.Summary == "Unsupported block type" {
			d.Detail += fmt.Sprintf(" A manifest holds the provider's resources without the resource keyword and the %s prefix "+
				"(deployment \"web\" { ... }), variable and locals blocks; kinds: %s.", schema.TypePrefix, strings.Join(schema.Kinds(), ", "))
		}
	}
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			diags = append(diags, l.declareVariable(b)...)
		case "locals":
			attrs, d := b.Body.JustAttributes()
			diags = append(diags, d...)
			for name, a := range attrs {
				if prev, dup := l.locals[name]; dup {
					diags = append(diags, duplicate("local."+name, prev.NameRange, a.NameRange))
					continue
				}
				l.locals[name] = a
			}
		default:
			addr := b.Type + "." + b.Labels[0]
			if prev, dup := l.objects[addr]; dup {
				diags = append(diags, duplicate(addr, prev.block.DefRange, b.DefRange))
				continue
			}
			l.objects[addr] = &object{kind: b.Type, name: b.Labels[0], block: b}
		}
	}
	return diags
}

func duplicate(what string, first, again hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + what,
		Detail: fmt.Sprintf("%s is already declared at %s; each name may be declared once.", what, position(first)), Subject: again.Ptr()}
}

func (l *loader) declareVariable(b *hcl.Block) hcl.Diagnostics {
	name := b.Labels[0]
	if prev, dup := l.variables[name]; dup {
		return hcl.Diagnostics{duplicate("variable "+name, prev.block.DefRange, b.DefRange)}
	}
	content, diags := b.Body.Content(variableSchema)
	v := &variable{block: b, typ: cty.DynamicPseudoType}
	if a, ok := content.Attributes["type"]; ok {
		t, d := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, d...)
		v.typ, v.typeSet = t, true
	}
	if a, ok := content.Attributes["default"]; ok {
		v.def = a.Expr
	}
	l.variables[name] = v
	return diags
}

// resolveVariables sets every variable: from vars (-var), the environment,
// or its default, converted to its type.
func (l *loader) resolveVariables(vars map[string]string, getenv func(string) string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := l.variables[n]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("-var %s=...: no variable %q is declared in the manifests; add a variable %q block.", n, n, n)})
		}
	}
	for name, v := range l.variables {
		var val cty.Value
		raw, given := vars[name]
		source := "-var " + name
		if !given {
			raw = getenv(EnvPrefix + name)
			given = raw != ""
			source = "$" + EnvPrefix + name
		}
		switch {
		case given:
			var d hcl.Diagnostics
			val, d = parseVarValue(raw, v.typ, source)
			if d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
		case v.def != nil:
			var d hcl.Diagnostics
			val, d = v.def.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for variable " + name,
				Detail: fmt.Sprintf("Variable %q has no default: set it with -var %s=VALUE or $%s%s.", name, name, EnvPrefix, name), Subject: v.block.DefRange.Ptr()})
			continue
		}
		if v.typeSet {
			conv, err := ctyconvert.Convert(val, v.typ)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable " + name,
					Detail: fmt.Sprintf("The value is not a %s: %v.", v.typ.FriendlyName(), err), Subject: v.block.DefRange.Ptr()})
				continue
			}
			val = conv
		}
		l.varValues[name] = val
	}
	return diags
}

// parseVarValue reads a command-line value: a string as is for string (or
// untyped) variables, otherwise an HCL expression ("3", "[\"a\"]").
func parseVarValue(raw string, typ cty.Type, source string) (cty.Value, hcl.Diagnostics) {
	if typ == cty.String || typ == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	return expr.Value(nil)
}

// node is a local or an object, by its reference name ("local.x",
// "deployment.web").
type node string

// order sorts the locals and objects so that each comes after what it
// references; a cycle is an error naming its members.
func (l *loader) order() ([]node, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	deps := map[node][]node{}
	where := map[node]hcl.Range{}
	var all []node
	for name, a := range l.locals {
		n := node("local." + name)
		all = append(all, n)
		where[n] = a.NameRange
		ds, d := l.references(a.Expr.Variables())
		deps[n], diags = ds, append(diags, d...)
	}
	for addr, o := range l.objects {
		n := node(addr)
		all = append(all, n)
		where[n] = o.block.DefRange
		ds, d := l.references(bodyVariables(o.block.Body, o.kind))
		deps[n], diags = ds, append(diags, d...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	l.deps = deps
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	const (
		visiting = 1
		done     = 2
	)
	state := map[node]int{}
	var out []node
	var stack []node
	var visit func(n node) bool
	visit = func(n node) bool {
		switch state[n] {
		case done:
			return true
		case visiting:
			i := len(stack) - 1
			for i > 0 && stack[i] != n {
				i--
			}
			cycle := append(append([]node{}, stack[i:]...), n)
			names := make([]string, len(cycle))
			for j, c := range cycle {
				names[j] = string(c)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference cycle",
				Detail:  strings.Join(names, " -> ") + ": objects and locals cannot depend on themselves; break the cycle with a literal value or a local.",
				Subject: where[n].Ptr()})
			return false
		}
		state[n] = visiting
		stack = append(stack, n)
		for _, d := range deps[n] {
			if !visit(d) {
				return false
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		out = append(out, n)
		return true
	}
	for _, n := range all {
		if !visit(n) {
			break
		}
	}
	return out, diags
}

// objectDeps are the objects n refers to, directly or through locals,
// sorted.
func (l *loader) objectDeps(n node) []string {
	seen := map[node]bool{}
	var out []string
	var walk func(n node)
	walk = func(n node) {
		for _, d := range l.deps[n] {
			if seen[d] {
				continue
			}
			seen[d] = true
			if strings.HasPrefix(string(d), "local.") {
				walk(d)
				continue
			}
			out = append(out, string(d))
		}
	}
	walk(n)
	sort.Strings(out)
	return out
}

// bodyVariables are the references of every expression in a block's body:
// with native syntax, read off the syntax tree (hcldec.Variables builds
// the spec's body schemas again for every block, which costs more).
func bodyVariables(body hcl.Body, kind string) []hcl.Traversal {
	b, ok := body.(*hclsyntax.Body)
	if !ok {
		return hcldec.Variables(body, schema.Spec(kind))
	}
	var out []hcl.Traversal
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			out = append(out, a.Expr.Variables()...)
		}
		for _, nb := range b.Blocks {
			walk(nb.Body)
		}
	}
	walk(b)
	return out
}

// references turns traversals into the nodes they need, refusing names
// that are none of var, local or a declared object.
func (l *loader) references(ts []hcl.Traversal) ([]node, hcl.Diagnostics) {
	var out []node
	var diags hcl.Diagnostics
	for _, t := range ts {
		root := t.RootName()
		bad := func(detail string) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: detail, Subject: t.SourceRange().Ptr()})
		}
		var second string
		if len(t) > 1 {
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				second = a.Name
			}
		}
		switch {
		case root == "var":
			if _, ok := l.variables[second]; !ok {
				bad(fmt.Sprintf("var.%s: no variable %q is declared.", second, second))
			}
		case root == "local":
			if _, ok := l.locals[second]; !ok {
				bad(fmt.Sprintf("local.%s: no local %q is declared in a locals block.", second, second))
				continue
			}
			out = append(out, node("local."+second))
		case schema.Known(root):
			addr := root + "." + second
			if _, ok := l.objects[addr]; !ok {
				bad(fmt.Sprintf("%s: no %s %q is declared in the manifests.", addr, root, second))
				continue
			}
			out = append(out, node(addr))
		default:
			bad(fmt.Sprintf("%q is not something a manifest can refer to: use var.<name>, local.<name> or <kind>.<name>.<attribute> (kinds: %s).",
				root, strings.Join(schema.Kinds(), ", ")))
		}
	}
	return out, diags
}

// evalContext holds var, local and the objects n refers to (all
// evaluated before it).
func (l *loader) evalContext(n node) *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(l.varValues),
		"local": cty.ObjectVal(l.localValues),
	}
	for _, d := range l.deps[n] {
		kind, _, _ := strings.Cut(string(d), ".")
		if kind == "local" {
			continue
		}
		v, ok := l.kindValues[kind]
		if !ok {
			v = cty.ObjectVal(l.objValues[kind])
			l.kindValues[kind] = v
		}
		vars[kind] = v
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

// evaluate computes one local or object.
func (l *loader) evaluate(n node) hcl.Diagnostics {
	if name, ok := strings.CutPrefix(string(n), "local."); ok {
		v, diags := l.locals[name].Expr.Value(l.evalContext(n))
		l.localValues[name] = v
		return diags
	}
	o := l.objects[string(n)]
	v, diags := hcldec.Decode(o.block.Body, schema.Spec(o.kind), l.evalContext(n))
	if diags.HasErrors() {
		return diags
	}
	if l.objValues[o.kind] == nil {
		l.objValues[o.kind] = map[string]cty.Value{}
	}
	l.objValues[o.kind][o.name] = v
	delete(l.kindValues, o.kind)
	attrs, err := convert.FromCty(v)
	if err != nil {
		return append(diags, conversionDiags(o, err)...)
	}
	obj, err := convert.FromAttrs(o.kind, attrs)
	if err != nil {
		return append(diags, conversionDiags(o, err)...)
	}
	meta := obj.GetObjectMeta()
	l.resources = append(l.resources, plan.Resource{Address: string(n), Kind: schema.APIKind(o.kind),
		Namespace: meta.Namespace, Name: meta.Name, Attrs: attrs, Object: obj})
	return diags
}

// conversionDiags places conversion errors at their attributes.
func conversionDiags(o *object, err error) hcl.Diagnostics {
	addr := o.kind + "." + o.name
	var errs convert.Errors
	if !errors.As(err, &errs) {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + addr, Detail: err.Error(), Subject: o.block.DefRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	for _, e := range errs {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid attribute",
			Detail: fmt.Sprintf("%s: %s: %s", addr, e.Path, e.Detail), Subject: rangeOf(o.block, e.Path).Ptr()})
	}
	return diags
}
