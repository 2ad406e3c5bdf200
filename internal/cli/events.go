package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// eventsOptions are the events command's flags.
type eventsOptions struct {
	output, forObject string
	allNamespaces     bool
	watch             bool
}

func newEventsCmd(g *globals) *cobra.Command {
	var o eventsOptions
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List events, oldest first",
		Long: "List the events of a namespace (or all, with -A), oldest first: when each last happened, Normal or Warning, " +
			"the reason, the object it is about and the message. --for narrows them to one object; --watch keeps printing new ones. " +
			"Events about cluster-scoped objects (nodes, machines) are in the default namespace.",
		Example: `  maestro events
  maestro events -A
  maestro events --for deployment/web
  maestro events --for pod/web-7d9f-x2x4q --watch`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvents(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "table, json or yaml")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "events of every namespace")
	cmd.Flags().StringVar(&o.forObject, "for", "", "only events about this object, kind/name (deploy/web, node/node-1)")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "after the events, print each new or repeated one until interrupted")
	return cmd
}

// eventColumns are the events table: LAST SEEN falls back to the first
// time or the creation of an event that has no last time.
var eventColumns = columns{[]string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}, func(o api.Object) []string {
	e := o.(*api.Event)
	return []string{age(eventTime(e)), e.Type, e.Reason, strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name, e.Message}
}}

func runEvents(ctx context.Context, g *globals, o eventsOptions) error {
	if !slices.Contains([]string{"table", "json", "yaml"}, o.output) {
		return fmt.Errorf("-o %q: must be table, json or yaml", o.output)
	}
	ns := g.namespace
	opts := client.ListOptions{}
	if o.forObject != "" {
		kind, name, err := parseKindName(o.forObject)
		if err != nil {
			return err
		}
		if !kind.Namespaced {
			ns = api.NamespaceDefault
		}
		opts.FieldSelector = "involvedObject.kind=" + kind.Kind + ",involvedObject.name=" + name
	}
	if o.allNamespaces {
		ns = ""
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	res := client.Dynamic(c, api.MustKind("Event"), ns)
	objs, rev, err := res.List(ctx, opts)
	if err != nil {
		return fmt.Errorf("listing events: %w", err)
	}
	sortEvents(objs)
	if !o.watch {
		if len(objs) == 0 && o.output == "table" {
			fmt.Fprintln(g.errOut, noEvents(ns, o.forObject))
			return nil
		}
		return printObjects(g, api.MustKind("Event"), eventColumns, objs, o.output, false, ns == "")
	}
	p := &watchPrinter{w: g.out, output: o.output, withNamespace: ns == "", cols: eventColumns}
	if err := p.start(objs); err != nil {
		return err
	}
	opts.ResourceVersion = rev
	w, err := res.Watch(ctx, opts)
	if err != nil {
		return fmt.Errorf("watching events: %w", err)
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == api.WatchDeleted {
			continue // an event expiring is not news
		}
		if err := p.print(ev.Object); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return w.Err()
}

// parseKindName reads "kind/name" with any of the kind's names.
func parseKindName(s string) (*api.KindInfo, string, error) {
	k, name, ok := strings.Cut(s, "/")
	if !ok || k == "" || name == "" {
		return nil, "", fmt.Errorf("--for %q: want kind/name, such as deployment/web", s)
	}
	kind, err := api.LookupKind(k)
	if err != nil {
		return nil, "", fmt.Errorf("--for %q: %w", s, err)
	}
	return kind, name, nil
}

// sortEvents puts events in the order they (last) happened, the name
// breaking ties so the order is stable.
func sortEvents(objs []api.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i].(*api.Event), objs[j].(*api.Event)
		if ta, tb := eventTime(a), eventTime(b); !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.Key() < b.Key()
	})
}

func noEvents(ns, forObject string) string {
	msg := "No events found"
	if forObject != "" {
		msg += " for " + forObject
	}
	if ns != "" {
		msg += " in namespace " + ns
	}
	return msg + "."
}
