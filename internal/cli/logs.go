package cli

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
)

func newLogsCmd(g *globals) *cobra.Command {
	var opts client.LogOptions
	cmd := &cobra.Command{
		Use:     "logs <pod>",
		Short:   "Print a container's log (from the pod's node agent)",
		Example: "  maestro logs web-7d9f8c6b5-x2x4z -f --tail 20",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.PodLogs(cmd.Context(), g.namespace, args[0], opts, g.out)
		},
	}
	cmd.Flags().StringVarP(&opts.Container, "container", "c", "", "container (needed when the pod has several)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep streaming new lines")
	cmd.Flags().Int64Var(&opts.TailLines, "tail", 0, "only the last N lines")
	cmd.Flags().BoolVar(&opts.Timestamps, "timestamps", false, "prefix lines with their time")
	return cmd
}

func newTopCmd(g *globals) *cobra.Command {
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show cpu and memory use of pods, from their node agents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ns := g.namespace
			if allNamespaces {
				ns = ""
			}
			pods, _, err := c.Pods(ns).List(cmd.Context(), client.ListOptions{})
			if err != nil {
				return err
			}
			sort.Slice(pods, func(i, j int) bool { return pods[i].Key() < pods[j].Key() })
			tw := tabwriter.NewWriter(g.out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "NAMESPACE\tPOD\tCPU(cores)\tMEMORY(bytes)")
			for _, p := range pods {
				if p.Spec.NodeName == "" {
					continue
				}
				st, err := c.PodStats(cmd.Context(), p.Namespace, p.Name)
				if err != nil {
					fmt.Fprintf(tw, "%s\t%s\t<unavailable>\t%v\n", p.Namespace, p.Name, err)
					continue
				}
				var cpu, mem int64
				for _, cs := range st.Containers {
					cpu += cs.CPUMilli
					mem += cs.MemoryBytes
				}
				fmt.Fprintf(tw, "%s\t%s\t%dm\t%dMi\n", p.Namespace, p.Name, cpu, mem>>20)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "pods of every namespace")
	return cmd
}

func newImageCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images of the local Docker engine"}
	load := &cobra.Command{
		Use:   "load <archive.tar>",
		Short: "Load an image archive (docker save format) onto the local engine, for nodes without a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := docker.New(cmd.Context(), docker.Options{})
			if err != nil {
				return err
			}
			f, err := openFile(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			refs, err := rt.LoadArchive(cmd.Context(), f)
			if err != nil {
				return fmt.Errorf("loading %s: %w", args[0], err)
			}
			for _, r := range refs {
				fmt.Fprintf(g.out, "loaded %s\n", r)
			}
			return nil
		},
	}
	cmd.AddCommand(load)
	return cmd
}
