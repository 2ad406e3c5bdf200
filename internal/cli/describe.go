package cli

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

func newDescribeCmd(g *globals) *cobra.Command {
	var selector string
	cmd := &cobra.Command{
		Use:   "describe <kind> [name]",
		Short: "Show an object in detail for a person: settings, status, conditions and events",
		Long: `Describe shows an object's metadata, its important settings and status,
its conditions, the objects that belong with it (a pool's machines, a
machine's node, a node's pods, a deployment's replica sets, a replica set's
pods) and the events recorded about it (oldest first). Without a name it
describes every object of the kind in the namespace (or those matching -l).
Secrets show their keys and sizes, never their values.`,
		Example: `  maestro describe nodepool edge
  maestro describe machines
  maestro describe pod web-5d8f-x2k -n shop
  maestro describe pods -l app=web`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := api.LookupKind(args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ns := g.namespace
			if !kind.Namespaced {
				ns = ""
			}
			objs, err := describeTargets(cmd.Context(), c, kind, ns, args[1:], selector)
			if err != nil {
				return err
			}
			if len(objs) == 0 {
				fmt.Fprintf(g.errOut, "No %s found.\n", kind.Plural)
			}
			for i, o := range objs {
				if i > 0 {
					fmt.Fprintln(g.out)
				}
				if err := describeObject(g.out, o, describeTables(cmd.Context(), c, o)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "without a name: describe the objects matching this label selector")
	return cmd
}

// describeTargets reads the named object, or lists the kind.
func describeTargets(ctx context.Context, c *client.Client, kind *api.KindInfo, ns string, names []string, selector string) ([]api.Object, error) {
	res := client.Dynamic(c, kind, ns)
	if len(names) == 1 {
		if selector != "" {
			return nil, fmt.Errorf("-l selects objects to describe: give a name or -l, not both")
		}
		o, err := res.Get(ctx, names[0])
		if api.IsNotFound(err) {
			msg := fmt.Sprintf("%s %q not found", strings.ToLower(kind.Kind), names[0])
			if kind.Namespaced {
				msg += fmt.Sprintf(" in namespace %q", ns)
			}
			return nil, &notFoundError{msg: msg, err: err}
		}
		if err != nil {
			return nil, err
		}
		return []api.Object{o}, nil
	}
	objs, _, err := res.List(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	sortByKey(objs)
	return objs, nil
}

// notFoundError says which object is missing where, once, and is still
// api.IsNotFound.
type notFoundError struct {
	msg string
	err error
}

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return e.err }

// objectEvents lists the events about an object, oldest first. Events
// about cluster-scoped objects are recorded in the default namespace;
// events about an earlier object of the same name are left out.
func objectEvents(ctx context.Context, c *client.Client, o api.Object) ([]*api.Event, error) {
	meta := o.GetObjectMeta()
	ns := meta.Namespace
	if ns == "" {
		ns = api.NamespaceDefault
	}
	kind := api.KindOf(o).Kind
	list, _, err := c.Events(ns).List(ctx, client.ListOptions{
		FieldSelector: "involvedObject.kind=" + kind + ",involvedObject.name=" + meta.Name})
	if err != nil {
		return nil, fmt.Errorf("listing events of %s %q: %w", strings.ToLower(kind), meta.Name, err)
	}
	out := list[:0]
	for _, e := range list {
		ref := e.InvolvedObject
		if ref.Namespace == meta.Namespace && (ref.UID == "" || ref.UID == meta.UID) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

// describeObject writes the description of one object: metadata, the
// kind's sections, conditions, then the tables read beside it (related
// objects, events).
func describeObject(w io.Writer, o api.Object, tables []describeTable) error {
	doc, err := toDoc(o)
	if err != nil {
		return fmt.Errorf("describing %s: %w", o.GetObjectMeta().Name, err)
	}
	kind := api.KindOf(o)
	d := newDescriber(w)
	d.sections(o, doc, []section{{fields: metadataFields(kind)}})
	d.sections(o, doc, describeKinds[kind.Kind])
	if conds, _ := lookup(doc, "status.conditions").([]any); len(conds) > 0 || hasConditions(kind) {
		d.conditions(conds)
	}
	for _, t := range tables {
		d.table(t)
	}
	d.flush()
	return nil
}

// describeTables reads what a description shows beside the object: the
// objects related to it (describeRelated) and its events. A table that
// cannot be read says why in place of its rows.
func describeTables(ctx context.Context, c *client.Client, o api.Object) []describeTable {
	var tables []describeTable
	if rel, ok := describeRelated[api.KindOf(o).Kind]; ok {
		tables = append(tables, rel(ctx, c, o)...)
	}
	if _, isEvent := o.(*api.Event); !isEvent {
		events, err := objectEvents(ctx, c, o)
		tables = append(tables, eventsTable(events, err))
	}
	return tables
}

// hasConditions reports whether a kind's status has conditions, so its
// description says "Conditions: <none>" rather than nothing.
func hasConditions(kind *api.KindInfo) bool {
	status := reflect.ValueOf(kind.New()).Elem().FieldByName("Status")
	return status.IsValid() && status.FieldByName("Conditions").IsValid()
}

// metadataFields are the lines every description starts with.
func metadataFields(kind *api.KindInfo) []field {
	meta := func(f func(m *api.ObjectMeta) []string) func(o api.Object) []string {
		return func(o api.Object) []string { return f(o.GetObjectMeta()) }
	}
	fs := []field{{label: "Name", path: "metadata.name"}}
	if kind.Namespaced {
		fs = append(fs, field{label: "Namespace", path: "metadata.namespace"})
	}
	return append(fs,
		field{label: "Labels", path: "metadata.labels"},
		field{label: "Annotations", path: "metadata.annotations"},
		field{label: "Created", path: "metadata.creationTimestamp", show: showTime},
		field{label: "Controlled By", optional: true, of: meta(func(m *api.ObjectMeta) []string {
			var out []string
			for _, r := range m.OwnerReferences {
				out = append(out, r.Kind+"/"+r.Name)
			}
			return out
		})},
		field{label: "Finalizers", path: "metadata.finalizers", optional: true},
		field{label: "Deleting Since", path: "metadata.deletionTimestamp", show: showTime, optional: true},
	)
}

// conditions writes the conditions table, each message's first line in
// it; a message of several lines (a node that never joined: the agent's
// last log lines) follows the table in full.
func (d *describer) conditions(conds []any) {
	rows := make([][]string, 0, len(conds))
	var long [][2]string
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		when := "<unknown>"
		if m["lastTransitionTime"] != nil {
			when = showTime(m["lastTransitionTime"])[0]
		}
		msg := strings.TrimSpace(str(m, "message"))
		first, _, multi := strings.Cut(msg, "\n")
		if multi {
			long = append(long, [2]string{str(m, "type"), msg})
			first += " ..."
		}
		rows = append(rows, []string{str(m, "type"), str(m, "status"), dashIfEmpty(str(m, "reason")), when, dashIfEmpty(first)})
	}
	d.table(describeTable{title: "Conditions", headers: []string{"TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE"}, rows: rows})
	for _, l := range long {
		fmt.Fprintf(d.w, "  %s message:\n", l[0])
		for _, line := range strings.Split(l[1], "\n") {
			fmt.Fprintf(d.w, "    %s\n", line)
		}
	}
}

// eventsTable renders events: the age of the last time, with the count
// and span for repeated ones ("2m (x4 over 10m)").
func eventsTable(events []*api.Event, err error) describeTable {
	t := describeTable{title: "Events", headers: []string{"TYPE", "REASON", "AGE", "FROM", "MESSAGE"}, err: err}
	for _, e := range events {
		when := age(eventTime(e))
		if e.Count > 1 && !e.FirstTimestamp.IsZero() {
			when = fmt.Sprintf("%s (x%d over %s)", when, e.Count, age(e.FirstTimestamp))
		}
		t.rows = append(t.rows, []string{dashIfEmpty(e.Type), e.Reason, when, dashIfEmpty(e.Source.Component),
			strings.ReplaceAll(e.Message, "\n", `\n`)})
	}
	return t
}

// eventTime is when an event last happened.
func eventTime(e *api.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp
	}
	if !e.FirstTimestamp.IsZero() {
		return e.FirstTimestamp
	}
	return e.CreationTimestamp
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
