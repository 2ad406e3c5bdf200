package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// getOptions are get's flags.
type getOptions struct {
	output, selector, fieldSelector string
	allNamespaces, watch            bool
}

func newGetCmd(g *globals) *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get <kind>[,<kind>...] [name]",
		Short: "Show objects as a table, JSON or YAML",
		Long: "Show objects as a table, JSON or YAML. Several kinds, comma-separated (short names too: " +
			"`deploy,svc`), print one table per kind, each object named kind/name, as kubectl does.",
		Example: `  maestro get pods
  maestro get deploy web -o yaml
  maestro get deploy,svc,cm
  maestro get pods -A -l app=web
  maestro get machines --watch`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), g, o, args)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "table, wide (more columns), json or yaml")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "label selector, e.g. app=web,tier in (front,back)")
	cmd.Flags().StringVar(&o.fieldSelector, "field-selector", "", "field selector, e.g. spec.nodeName=node-1")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "after the objects, print each change to them until interrupted")
	return cmd
}

func runGet(ctx context.Context, g *globals, o getOptions, args []string) error {
	kinds, err := lookupKinds(args[0])
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"table", "wide", "json", "yaml"}, o.output) {
		return fmt.Errorf("-o %q: must be table, wide, json or yaml", o.output)
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	if len(kinds) > 1 {
		switch {
		case len(args) == 2:
			return fmt.Errorf("getting %q by name: name one kind (maestro get %s %s)", args[0], strings.ToLower(kinds[0].Kind), args[1])
		case o.watch:
			return fmt.Errorf("--watch takes one kind, not %q", args[0])
		}
		return getKinds(ctx, g, c, kinds, o)
	}
	kind := kinds[0]
	ns := g.namespace
	if o.allNamespaces || !kind.Namespaced {
		ns = ""
	}
	name := ""
	if len(args) == 2 {
		if name = args[1]; kind.Namespaced && ns == "" {
			return fmt.Errorf("getting %s %q: pick a namespace with -n, not -A", kind.Kind, name)
		}
	}
	if o.watch {
		return watchObjects(ctx, g, c, kind, ns, name, o)
	}
	res := client.Dynamic(c, kind, ns)
	var objs []api.Object
	if name != "" {
		obj, err := res.Get(ctx, name)
		if err != nil {
			return err
		}
		objs = []api.Object{obj}
	} else {
		objs, _, err = res.List(ctx, client.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector})
		if err != nil {
			return err
		}
		sortByKey(objs)
	}
	cols := tableColumns(ctx, g, c, kind, ns, o.output, objs)
	return printObjects(g, kind, cols, objs, o.output, name != "", ns == "" && kind.Namespaced)
}

func sortByKey(objs []api.Object) {
	sort.Slice(objs, func(i, j int) bool { return objs[i].GetObjectMeta().Key() < objs[j].GetObjectMeta().Key() })
}

// tableColumns are the columns of a kind for -o table or wide (services
// count their endpoints with one more list).
func tableColumns(ctx context.Context, g *globals, c *client.Client, kind *api.KindInfo, ns, output string, objs []api.Object) columns {
	cols := columnsOf(kind)
	if kind.Kind == "Service" && output != "json" && output != "yaml" && len(objs) > 0 {
		cols = serviceColumns(readyEndpoints(ctx, g, c, ns))
	}
	if output == "wide" {
		cols = cols.withWide(kind)
	}
	return cols
}

// readyEndpoints counts the ready addresses of every Endpoints object in
// the namespace ("" = all) by "namespace/name", with one list; nil (the
// column shows <unknown>) when the list fails.
func readyEndpoints(ctx context.Context, g *globals, c *client.Client, ns string) map[string]int {
	eps, _, err := c.Endpoints(ns).List(ctx, client.ListOptions{})
	if err != nil {
		fmt.Fprintf(g.errOut, "warning: cannot count endpoints: %v\n", err)
		return nil
	}
	out := make(map[string]int, len(eps))
	for _, e := range eps {
		out[e.Key()] = readyAddresses(e)
	}
	return out
}

func printObjects(g *globals, kind *api.KindInfo, cols columns, objs []api.Object, output string, single, withNamespace bool) error {
	var doc any = objs
	if single {
		doc = objs[0]
	} else if output == "json" || output == "yaml" {
		doc = api.List[api.Object]{TypeMeta: api.TypeMeta{Kind: kind.Kind + "List", APIVersion: api.APIVersion}, Items: objs}
	}
	switch output {
	case "json":
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(g.out, string(b))
	case "yaml":
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		fmt.Fprint(g.out, string(b))
	default:
		if len(objs) == 0 {
			fmt.Fprintf(g.errOut, "No %s found.\n", kind.Plural)
			return nil
		}
		return printColumns(g.out, cols, kind, objs, withNamespace)
	}
	return nil
}
