package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newCreateCmd(g *globals) *cobra.Command {
	var (
		files  []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "create -f <file.json|yaml>",
		Short: "Create the objects described in files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return errors.New("-f: required (a JSON or YAML file, or - for stdin)")
			}
			var objs []api.Object
			for _, f := range files {
				read, err := readObjects(f, cmd.InOrStdin())
				if err != nil {
					return err
				}
				objs = append(objs, read...)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var failed []string
			for _, obj := range objs {
				kind := api.KindOf(obj)
				meta := obj.GetObjectMeta()
				if kind.Namespaced && meta.Namespace == "" {
					meta.Namespace = g.namespace
				}
				var prev api.PlacementPreview
				var warnings []string
				out, err := client.Dynamic(c, kind, meta.Namespace).Create(cmd.Context(), obj,
					client.WriteOptions{DryRun: dryRun, Placement: &prev, Warnings: &warnings})
				if err != nil {
					failed = append(failed, err.Error())
					fmt.Fprintf(g.errOut, "Error: %s\n", formatError(err))
					continue
				}
				suffix := "created"
				if dryRun {
					suffix += " (dry run)"
				}
				fmt.Fprintf(g.out, "%s/%s %s\n", strings.ToLower(kind.Kind), out.GetObjectMeta().Name, suffix)
				if prev.Pods > 0 {
					fmt.Fprintf(g.out, "  placement: %s\n", describePlacement(prev))
				}
				for _, w := range warnings {
					fmt.Fprintf(g.errOut, "Warning: %s\n", w)
				}
			}
			if len(failed) > 0 {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "file with objects (JSON or YAML, several documents allowed; - for stdin)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate on the server without storing anything")
	return cmd
}

// describePlacement renders a preview as "3/3 pods fit (node-a: 2, node-b: 1)".
func describePlacement(p api.PlacementPreview) string {
	nodes := make([]string, 0, len(p.Nodes))
	for n := range p.Nodes {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = fmt.Sprintf("%s: %d", n, p.Nodes[n])
	}
	s := fmt.Sprintf("%d/%d pods fit", p.Placed, p.Pods)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if p.Reason != "" {
		s += "; " + p.Reason
	}
	return s
}
