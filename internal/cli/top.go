package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
)

// topOptions are `maestro top`'s flags, as kubectl top's.
type topOptions struct {
	allNamespaces bool
	selector      string
	containers    bool
	sortBy        string
}

func newTopCmd(g *globals) *cobra.Command {
	var o topOptions
	pods := &cobra.Command{
		Use:     "pods [name]",
		Aliases: []string{"pod", "po"},
		Short:   "Show cpu and memory use of pods (what their agents last reported)",
		Example: "  maestro top pods -l app=web --containers\n  maestro top pods -A --sort-by cpu",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return topPods(cmd.Context(), c, g.out, g.namespace, args, o)
		},
	}
	pods.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "pods of every namespace")
	pods.Flags().StringVarP(&o.selector, "selector", "l", "", "label selector (app=web,tier!=db)")
	pods.Flags().BoolVar(&o.containers, "containers", false, "one line per container")
	pods.Flags().StringVar(&o.sortBy, "sort-by", "", "cpu or memory (largest first)")
	nodes := &cobra.Command{
		Use:     "nodes [name]",
		Aliases: []string{"node", "no"},
		Short:   "Show cpu and memory use of nodes, and their share of the allocatable",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return topNodes(cmd.Context(), c, g.out, args, o)
		},
	}
	nodes.Flags().StringVarP(&o.selector, "selector", "l", "", "label selector (pool=web)")
	nodes.Flags().StringVar(&o.sortBy, "sort-by", "", "cpu or memory (largest first)")
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show cpu and memory use of pods or nodes (agents report it every --metrics-interval)",
		Long: `Show cpu and memory use of pods or nodes, as kubectl top does.

Agents report usage to the API server every --metrics-interval (10 s by
default); cpu is the average over that interval, memory the working set.
A pod appears once its node has sampled it twice.`,
		Args: cobra.NoArgs,
		// Plain "maestro top" is "maestro top pods", as it was.
		RunE: pods.RunE,
	}
	cmd.Flags().AddFlagSet(pods.Flags())
	cmd.AddCommand(pods, nodes)
	return cmd
}

func topPods(ctx context.Context, c *client.Client, out io.Writer, namespace string, args []string, o topOptions) error {
	if o.allNamespaces {
		namespace = ""
	}
	var items []*api.PodMetrics
	if len(args) == 1 {
		m, err := c.PodMetrics(namespace).Get(ctx, args[0])
		if api.IsNotFound(err) {
			return fmt.Errorf("no usage for pod %s/%s yet: its node has not reported it (agents report every --metrics-interval, a pod after two samples)", namespace, args[0])
		}
		if err != nil {
			return err
		}
		items = []*api.PodMetrics{m}
	} else {
		var err error
		if items, err = c.PodMetrics(namespace).List(ctx, client.ListOptions{LabelSelector: o.selector}); err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("no usage reported yet for the pods asked for (agents report every --metrics-interval; a pod appears after two samples)")
		}
	}
	if err := sortUsage(items, o.sortBy, func(m *api.PodMetrics) api.ResourceList { return podTotal(m) }); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	var head []string
	if o.allNamespaces {
		head = append(head, "NAMESPACE")
	}
	if o.containers {
		head = append(head, "POD", "NAME")
	} else {
		head = append(head, "NAME")
	}
	writeRow(tw, append(head, "CPU(cores)", "MEMORY(bytes)"))
	for _, m := range items {
		var row []string
		if o.allNamespaces {
			row = append(row, m.Namespace)
		}
		if !o.containers {
			u := podTotal(m)
			writeRow(tw, append(row, m.Name, cpuCell(u), memoryCell(u)))
			continue
		}
		for _, cm := range m.Containers {
			writeRow(tw, append(row[:len(row):len(row)], m.Name, cm.Name, cpuCell(cm.Usage), memoryCell(cm.Usage)))
		}
	}
	return tw.Flush()
}

func topNodes(ctx context.Context, c *client.Client, out io.Writer, args []string, o topOptions) error {
	var items []*api.NodeMetrics
	if len(args) == 1 {
		m, err := c.NodeMetrics().Get(ctx, args[0])
		if api.IsNotFound(err) {
			return fmt.Errorf("no usage for node %s: it has not reported in the last 3 intervals", args[0])
		}
		if err != nil {
			return err
		}
		items = []*api.NodeMetrics{m}
	} else {
		var err error
		if items, err = c.NodeMetrics().List(ctx, client.ListOptions{LabelSelector: o.selector}); err != nil {
			return err
		}
		if len(items) == 0 {
			return fmt.Errorf("no node has reported usage yet (agents report every --metrics-interval)")
		}
	}
	if err := sortUsage(items, o.sortBy, func(m *api.NodeMetrics) api.ResourceList { return m.Usage }); err != nil {
		return err
	}
	nodes, _, err := c.Nodes().List(ctx, client.ListOptions{LabelSelector: o.selector})
	if err != nil {
		return err
	}
	allocatable := make(map[string]api.ResourceList, len(nodes))
	for _, n := range nodes {
		allocatable[n.Name] = n.Status.Allocatable
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	writeRow(tw, []string{"NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"})
	for _, m := range items {
		a := allocatable[m.Name]
		writeRow(tw, []string{m.Name, cpuCell(m.Usage), percentCell(m.Usage, a, api.ResourceCPU),
			memoryCell(m.Usage), percentCell(m.Usage, a, api.ResourceMemory)})
	}
	return tw.Flush()
}

func podTotal(m *api.PodMetrics) api.ResourceList {
	var cpu, mem int64
	for _, c := range m.Containers {
		q, r := c.Usage[api.ResourceCPU], c.Usage[api.ResourceMemory]
		cpu += q.MilliValue()
		mem += r.Value()
	}
	return api.ResourceList{api.ResourceCPU: resource.NewMilliQuantity(cpu, resource.DecimalSI),
		api.ResourceMemory: resource.NewQuantity(mem, resource.BinarySI)}
}

// sortUsage orders by name (the list's order) or, with --sort-by, by the
// largest cpu or memory first.
func sortUsage[T any](items []T, by string, usage func(T) api.ResourceList) error {
	var name api.ResourceName
	switch by {
	case "":
		return nil
	case "cpu":
		name = api.ResourceCPU
	case "memory":
		name = api.ResourceMemory
	default:
		return fmt.Errorf("--sort-by %q: must be cpu or memory", by)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := usage(items[i])[name], usage(items[j])[name]
		return a.Cmp(b) > 0
	})
	return nil
}

// cpuCell and memoryCell print as kubectl top does: millicores and MiB.
func cpuCell(u api.ResourceList) string {
	q := u[api.ResourceCPU]
	return strconv.FormatInt(q.MilliValue(), 10) + "m"
}

func memoryCell(u api.ResourceList) string {
	q := u[api.ResourceMemory]
	return strconv.FormatInt(q.Value()>>20, 10) + "Mi"
}

func percentCell(u, allocatable api.ResourceList, name api.ResourceName) string {
	a, ok := allocatable[name]
	if !ok || a.IsZero() {
		return "<unknown>"
	}
	q := u[name]
	return strconv.FormatInt(q.MilliValue()*100/a.MilliValue(), 10) + "%"
}

func writeRow(w io.Writer, cells []string) {
	for i, c := range cells {
		if i > 0 {
			_, _ = io.WriteString(w, "\t")
		}
		_, _ = io.WriteString(w, c)
	}
	_, _ = io.WriteString(w, "\n")
}
