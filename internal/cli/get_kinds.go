package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// lookupKinds reads get's kind argument: one kind or several,
// comma-separated ("deploy,svc"), each once, in the order given.
func lookupKinds(arg string) ([]*api.KindInfo, error) {
	var out []*api.KindInfo
	seen := map[string]bool{}
	for _, name := range strings.Split(arg, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("kinds %q: an empty kind between commas", arg)
		}
		k, err := api.LookupKind(name)
		if err != nil {
			return nil, err
		}
		if !seen[k.Kind] {
			seen[k.Kind] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// getKinds prints several kinds as kubectl does: a table per kind that
// has objects, separated by a blank line, each object named kind/name; or
// one List of them all with -o json or yaml.
func getKinds(ctx context.Context, g *globals, c *client.Client, kinds []*api.KindInfo, o getOptions) error {
	var all []api.Object
	printed := 0
	for _, kind := range kinds {
		ns := g.namespace
		if o.allNamespaces || !kind.Namespaced {
			ns = ""
		}
		objs, _, err := client.Dynamic(c, kind, ns).List(ctx, client.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector})
		if err != nil {
			return fmt.Errorf("listing %s: %w", kind.Plural, err)
		}
		sortByKey(objs)
		if o.output == "json" || o.output == "yaml" {
			all = append(all, objs...)
			continue
		}
		if len(objs) == 0 {
			continue
		}
		if printed > 0 {
			fmt.Fprintln(g.out)
		}
		printed++
		cols := kindPrefixed(tableColumns(ctx, g, c, kind, ns, o.output, objs), kind)
		if err := printColumns(g.out, cols, kind, objs, ns == "" && kind.Namespaced); err != nil {
			return err
		}
	}
	switch {
	case o.output == "json" || o.output == "yaml":
		return printList(g, all, o.output)
	case printed == 0 && (o.allNamespaces || g.namespace == ""):
		fmt.Fprintln(g.errOut, "No resources found.")
	case printed == 0:
		fmt.Fprintf(g.errOut, "No resources found in %s namespace.\n", g.namespace)
	}
	return nil
}

// kindPrefixed names each object kind/name in the NAME column, so rows of
// several tables say what they are.
func kindPrefixed(cols columns, kind *api.KindInfo) columns {
	if len(cols.headers) == 0 || cols.headers[0] != "NAME" {
		return cols
	}
	prefix := strings.ToLower(kind.Kind) + "/"
	row := cols.row
	return columns{cols.headers, func(o api.Object) []string {
		r := row(o)
		r[0] = prefix + r[0]
		return r
	}}
}

// printList prints objects of mixed kinds as one List document.
func printList(g *globals, objs []api.Object, output string) error {
	if objs == nil {
		objs = []api.Object{}
	}
	kind := &api.KindInfo{Kind: ""}
	return printObjects(g, kind, columns{}, objs, output, false, false)
}
