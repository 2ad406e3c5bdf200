package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// watchObjects is get --watch: the objects as get shows them, then the
// object again each time it changes (or goes), until ctx ends. The watch
// starts at the revision the list was read at, so no change between the
// two is missed; the client's watch resumes by itself over broken streams.
func watchObjects(ctx context.Context, g *globals, c *client.Client, kind *api.KindInfo, ns, name string, o getOptions) error {
	opts := client.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector}
	if name != "" {
		opts.FieldSelector = strings.TrimPrefix(opts.FieldSelector+",metadata.name="+name, ",")
	}
	res := client.Dynamic(c, kind, ns)
	objs, rev, err := res.List(ctx, opts)
	if err != nil {
		return err
	}
	if name != "" && len(objs) == 0 {
		return api.NewNotFound(kind.Kind, name)
	}
	sortByKey(objs)
	sortForTable(kind, objs)
	p := &watchPrinter{w: g.out, output: o.output, withNamespace: ns == "" && kind.Namespaced,
		cols: tableColumns(ctx, g, c, kind, ns, o.output, objs)}
	if err := p.start(objs); err != nil {
		return err
	}
	opts.ResourceVersion = rev
	w, err := res.Watch(ctx, opts)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		if err := p.print(ev.Object); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return w.Err()
}

// watchPrinter prints objects one at a time: table rows padded to the
// widths of the first table (widening when a row needs it), or one JSON
// or YAML document each.
type watchPrinter struct {
	w             io.Writer
	output        string
	cols          columns
	withNamespace bool
	widths        []int
}

func (p *watchPrinter) start(objs []api.Object) error {
	if p.output == "json" || p.output == "yaml" {
		for _, o := range objs {
			if err := p.print(o); err != nil {
				return err
			}
		}
		return nil
	}
	headers := p.cols.headers
	if p.withNamespace {
		headers = append([]string{"NAMESPACE"}, headers...)
	}
	rows := [][]string{headers}
	for _, o := range objs {
		rows = append(rows, rowOf(p.cols, o, p.withNamespace))
	}
	for _, r := range rows {
		p.widen(r)
	}
	for _, r := range rows {
		p.row(r)
	}
	return nil
}

func (p *watchPrinter) print(o api.Object) error {
	switch p.output {
	case "json":
		b, err := json.MarshalIndent(o, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(p.w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "---\n%s", b)
		return err
	}
	r := rowOf(p.cols, o, p.withNamespace)
	p.widen(r)
	p.row(r)
	return nil
}

func (p *watchPrinter) widen(r []string) {
	for i, cell := range r {
		if i >= len(p.widths) {
			p.widths = append(p.widths, 0)
		}
		p.widths[i] = max(p.widths[i], utf8.RuneCountInString(cell))
	}
}

// row writes cells separated as printColumns' tabwriter does (three
// spaces past the widest cell).
func (p *watchPrinter) row(r []string) {
	var b strings.Builder
	for i, cell := range r {
		b.WriteString(cell)
		if i < len(r)-1 {
			b.WriteString(strings.Repeat(" ", p.widths[i]-utf8.RuneCountInString(cell)+3))
		}
	}
	fmt.Fprintln(p.w, b.String())
}
