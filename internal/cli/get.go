package cli

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newGetCmd(g *globals) *cobra.Command {
	var (
		output        string
		allNamespaces bool
		selector      string
		fieldSelector string
	)
	cmd := &cobra.Command{
		Use:   "get <kind> [name]",
		Short: "Show objects as a table, JSON or YAML",
		Example: `  maestro get pods
  maestro get deploy web -o yaml
  maestro get pods -A -l app=web`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := api.LookupKind(args[0])
			if err != nil {
				return err
			}
			if output != "table" && output != "json" && output != "yaml" {
				return fmt.Errorf("-o %q: must be table, json or yaml", output)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ns := g.namespace
			if allNamespaces || !kind.Namespaced {
				ns = ""
			}
			res := client.Dynamic(c, kind, ns)
			var objs []api.Object
			if len(args) == 2 {
				if kind.Namespaced && ns == "" {
					return fmt.Errorf("getting %s %q: pick a namespace with -n, not -A", kind.Kind, args[1])
				}
				obj, err := res.Get(cmd.Context(), args[1])
				if err != nil {
					return err
				}
				objs = []api.Object{obj}
			} else {
				objs, _, err = res.List(cmd.Context(), client.ListOptions{LabelSelector: selector, FieldSelector: fieldSelector})
				if err != nil {
					return err
				}
				sort.Slice(objs, func(i, j int) bool { return objs[i].GetObjectMeta().Key() < objs[j].GetObjectMeta().Key() })
			}
			return printObjects(g, kind, objs, output, len(args) == 2, ns == "" && kind.Namespaced)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, e.g. app=web,tier in (front,back)")
	cmd.Flags().StringVar(&fieldSelector, "field-selector", "", "field selector, e.g. spec.nodeName=node-1")
	return cmd
}

func printObjects(g *globals, kind *api.KindInfo, objs []api.Object, output string, single, withNamespace bool) error {
	var doc any = objs
	if single {
		doc = objs[0]
	} else if output != "table" {
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
		return printTable(g.out, kind, objs, withNamespace)
	}
	return nil
}
