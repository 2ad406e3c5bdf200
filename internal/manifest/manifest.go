package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/schema"
)

// EnvPrefix prefixes the environment variables that set manifest
// variables (MAESTRO_VAR_replicas=3).
const EnvPrefix = "MAESTRO_VAR_"

// Set is a directory's manifests, read.
type Set struct {
	// Dir is the directory read; Files the manifest files in it.
	Dir   string
	Files []string
	// Resources are the objects, sorted by address: Attrs is the
	// attribute tree as written, Object the API object it converts to.
	Resources []plan.Resource
	// Deps are, by address, the objects an object refers to, directly or
	// through locals (what `-target` brings along, as Terraform's does).
	Deps   map[string][]string
	blocks map[string]*hcl.Block
}

// WithDeps is addrs and everything they depend on, transitively: the
// objects they refer to, and the namespace each lives in when these
// manifests declare it (an object cannot be created before its
// namespace). The result is sorted.
func (s *Set) WithDeps(addrs []string) []string {
	namespaces := map[string]string{} // namespace name -> address
	byAddr := map[string]plan.Resource{}
	for _, r := range s.Resources {
		byAddr[r.Address] = r
		if r.Kind == "Namespace" {
			namespaces[r.Name] = r.Address
		}
	}
	seen := map[string]bool{}
	var visit func(a string)
	visit = func(a string) {
		if seen[a] {
			return
		}
		seen[a] = true
		for _, d := range s.Deps[a] {
			visit(d)
		}
		if r, ok := byAddr[a]; ok && r.Namespace != "" {
			if ns, ok := namespaces[r.Namespace]; ok {
				visit(ns)
			}
		}
	}
	for _, a := range addrs {
		visit(a)
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Kind is the manifest kind of an address ("deployment.web": "deployment").
func Kind(address string) string {
	k, _, _ := strings.Cut(address, ".")
	return k
}

// Where is the file:line of an attribute of an object, or of the object's
// block when the attribute is not written ("" for an unknown address).
// attrPath is dotted with list indices ("spec.template.container[0].image").
func (s *Set) Where(address, attrPath string) string {
	b := s.blocks[address]
	if b == nil {
		return ""
	}
	return position(rangeOf(b, attrPath))
}

func position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// Load reads every *.hcl file of dir. vars are values given on the
// command line (-var name=value); they win over MAESTRO_VAR_<name> and
// over defaults.
func Load(ctx context.Context, dir string, vars map[string]string) (*Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, fmt.Errorf("manifest: listing %s: %w", dir, err)
	}
	if len(files) == 0 {
		if _, statErr := os.Stat(dir); statErr != nil {
			return nil, fmt.Errorf("manifest: %w", statErr)
		}
		return nil, fmt.Errorf("manifest: no *.hcl files in %s", dir)
	}
	sort.Strings(files)
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	l := newLoader()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file, d := parser.ParseHCLFile(f)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		diags = append(diags, l.index(file.Body)...)
	}
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	diags = append(diags, l.resolveVariables(vars, os.Getenv)...)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	order, d := l.order()
	if d.HasErrors() {
		return nil, diagError(d)
	}
	for _, n := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		diags = append(diags, l.evaluate(n)...)
	}
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	s := &Set{Dir: dir, Files: files, Resources: l.resources, Deps: map[string][]string{}, blocks: map[string]*hcl.Block{}}
	for addr, o := range l.objects {
		s.blocks[addr] = o.block
		s.Deps[addr] = l.objectDeps(node(addr))
	}
	sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].Address < s.Resources[j].Address })
	return s, nil
}

// Error is a failed Load: every diagnostic, one per line, each
// "file:line: summary: detail".
type Error struct{ Diags hcl.Diagnostics }

func (e *Error) Error() string {
	var lines []string
	for _, d := range e.Diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = position(*d.Subject) + ": " + msg
		}
		lines = append(lines, msg)
	}
	return strings.Join(lines, "\n")
}

func diagError(d hcl.Diagnostics) error { return &Error{Diags: d} }

// rangeOf finds the range of an attribute path within a block: the
// attribute's own line when written, else the nearest enclosing block's.
func rangeOf(b *hcl.Block, path string) hcl.Range {
	best := b.DefRange
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok || path == "" {
		return best
	}
	if i := strings.Index(path, `["`); i >= 0 {
		path = path[:i] // a map key: the map attribute's line
	}
	for _, seg := range strings.Split(path, ".") {
		name, idx := splitIndex(seg)
		if a, ok := body.Attributes[name]; ok {
			return a.SrcRange
		}
		var found *hclsyntax.Block
		n := 0
		for _, nb := range body.Blocks {
			if nb.Type != name {
				continue
			}
			if n == idx {
				found = nb
				break
			}
			n++
		}
		if found == nil {
			return best
		}
		best, body = found.DefRange(), found.Body
	}
	return best
}

// splitIndex splits "container[2]" into "container" and 2 (0 without).
func splitIndex(seg string) (string, int) {
	name, rest, ok := strings.Cut(seg, "[")
	if !ok {
		return seg, 0
	}
	var i int
	if _, err := fmt.Sscanf(rest, "%d]", &i); err != nil {
		return name, 0
	}
	return name, i
}

// topSchema is what a manifest file may hold.
func topSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
	}}
	for _, k := range schema.Kinds() {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k, LabelNames: []string{"name"}})
	}
	return s
}
