package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// columns renders one kind as a table: headers and a row function.
type columns struct {
	headers []string
	row     func(obj api.Object) []string
}

// nodeStatus is Ready or NotReady, with what keeps pods off the node:
// "Ready,SchedulingDisabled", "Ready,NetworkUnavailable".
func nodeStatus(n *api.Node) string {
	status := "NotReady"
	if api.IsNodeReady(n) {
		status = "Ready"
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	if c := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable); c != nil && c.Status == api.ConditionTrue {
		status += ",NetworkUnavailable"
	}
	return status
}

var tables = map[string]columns{
	"Namespace": {[]string{"NAME", "STATUS", "AGE"}, func(o api.Object) []string {
		ns := o.(*api.Namespace)
		return []string{ns.Name, ns.Status.Phase, age(ns.CreationTimestamp)}
	}},
	"Node": {[]string{"NAME", "STATUS", "POOL", "ZONE", "ADDRESS", "POD-CIDR", "AGE", "VERSION"}, func(o api.Object) []string {
		n := o.(*api.Node)
		return []string{n.Name, nodeStatus(n), dash(n.Labels[api.LabelNodePool]), dash(n.Labels[api.LabelZone]), dash(api.NodeAddressOf(n, api.NodeInternalIP)),
			dash(n.Spec.PodCIDR), age(n.CreationTimestamp), dash(n.Status.NodeInfo.AgentVersion)}
	}},
	"Pod": {[]string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"}, func(o api.Object) []string {
		p := o.(*api.Pod)
		ready := 0
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
		}
		status, restarts := podStatus(p)
		return []string{p.Name, fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers)), status,
			strconv.Itoa(int(restarts)), age(p.CreationTimestamp), dash(p.Status.PodIP), dash(p.Spec.NodeName)}
	}},
	"ReplicaSet": {[]string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"}, func(o api.Object) []string {
		rs := o.(*api.ReplicaSet)
		return []string{rs.Name, itoa(api.Deref(rs.Spec.Replicas, 1)), itoa(rs.Status.Replicas), itoa(rs.Status.ReadyReplicas), age(rs.CreationTimestamp)}
	}},
	"Deployment": {[]string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}, func(o api.Object) []string {
		d := o.(*api.Deployment)
		return []string{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, api.Deref(d.Spec.Replicas, 1)),
			itoa(d.Status.UpdatedReplicas), itoa(d.Status.AvailableReplicas), age(d.CreationTimestamp)}
	}},
	"Service": serviceColumns(nil),
	"Volume":  volumeColumns,
	"Endpoints": {[]string{"NAME", "ENDPOINTS", "AGE"}, func(o api.Object) []string {
		e := o.(*api.Endpoints)
		var eps []string
		for _, s := range e.Subsets {
			for _, a := range s.Addresses {
				for _, p := range s.Ports {
					eps = append(eps, fmt.Sprintf("%s:%d", a.IP, p.Port))
				}
			}
		}
		return []string{e.Name, dash(truncateList(eps, 3)), age(e.CreationTimestamp)}
	}},
	"ConfigMap": {[]string{"NAME", "DATA", "AGE"}, func(o api.Object) []string {
		c := o.(*api.ConfigMap)
		return []string{c.Name, strconv.Itoa(len(c.Data) + len(c.BinaryData)), age(c.CreationTimestamp)}
	}},
	"Secret": {[]string{"NAME", "TYPE", "DATA", "AGE"}, func(o api.Object) []string {
		s := o.(*api.Secret)
		return []string{s.Name, s.Type, strconv.Itoa(len(s.Data)), age(s.CreationTimestamp)}
	}},
	"Autoscaler": {[]string{"NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"}, func(o api.Object) []string {
		a := o.(*api.Autoscaler)
		return []string{a.Name, a.Spec.ScaleTargetRef.Kind + "/" + a.Spec.ScaleTargetRef.Name, autoscalerTargets(a), itoa(api.Deref(a.Spec.MinReplicas, 1)),
			itoa(a.Spec.MaxReplicas), itoa(a.Status.CurrentReplicas), age(a.CreationTimestamp)}
	}},
	"NodePool": nodePoolColumns,
	"Machine":  machineColumns,
	"Event":    eventColumns,
}

// serviceColumns renders services; readyEndpoints counts the ready
// addresses of each service's Endpoints object by "namespace/name" (nil
// when unknown; a service without an Endpoints object shows <none>).
func serviceColumns(readyEndpoints map[string]int) columns {
	return columns{[]string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS", "AGE"}, func(o api.Object) []string {
		s := o.(*api.Service)
		endpoints := "<unknown>"
		if readyEndpoints != nil {
			endpoints = "<none>"
			if n, ok := readyEndpoints[s.Key()]; ok {
				endpoints = strconv.Itoa(n)
			}
		}
		return []string{s.Name, s.Spec.Type, dash(s.Spec.ClusterIP), dash(servicePorts(s)), endpoints, age(s.CreationTimestamp)}
	}}
}

// servicePorts renders ports as "80/TCP", or "80:30080/TCP" with a node port.
func servicePorts(s *api.Service) string {
	ports := make([]string, len(s.Spec.Ports))
	for i, p := range s.Spec.Ports {
		ports[i] = fmt.Sprintf("%d/%s", p.Port, cmp.Or(p.Protocol, api.ProtocolTCP))
		if p.NodePort != 0 {
			ports[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, cmp.Or(p.Protocol, api.ProtocolTCP))
		}
	}
	return strings.Join(ports, ",")
}

// readyAddresses counts the ready addresses of an Endpoints object.
func readyAddresses(e *api.Endpoints) int {
	n := 0
	for _, s := range e.Subsets {
		n += len(s.Addresses)
	}
	return n
}

// columnsOf is the table of a kind (name and age for kinds without one).
func columnsOf(kind *api.KindInfo) columns {
	if cols, ok := tables[kind.Kind]; ok {
		return cols
	}
	return columns{[]string{"NAME", "AGE"}, func(o api.Object) []string {
		m := o.GetObjectMeta()
		return []string{m.Name, age(m.CreationTimestamp)}
	}}
}

func printTable(w io.Writer, kind *api.KindInfo, objs []api.Object, withNamespace bool) error {
	return printColumns(w, columnsOf(kind), kind, objs, withNamespace)
}

// wideColumns are the columns -o wide appends to a kind's table (a kind
// without them shows its table).
var wideColumns = map[string]columns{
	"NodePool": nodePoolWideColumns,
	"Machine":  machineWideColumns,
}

// withWide is the table with the kind's wide columns appended.
func (c columns) withWide(kind *api.KindInfo) columns {
	extra, ok := wideColumns[kind.Kind]
	if !ok {
		return c
	}
	base := c.row
	return columns{append(slices.Clip(c.headers), extra.headers...),
		func(o api.Object) []string { return append(base(o), extra.row(o)...) }}
}

func printColumns(w io.Writer, cols columns, kind *api.KindInfo, objs []api.Object, withNamespace bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	headers := cols.headers
	if withNamespace {
		headers = append([]string{"NAMESPACE"}, headers...)
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	sortForTable(kind, objs)
	for _, o := range objs {
		fmt.Fprintln(tw, strings.Join(rowOf(cols, o, withNamespace), "\t"))
	}
	return tw.Flush()
}

// sortForTable puts events in the order they happened (other kinds come
// sorted by key).
func sortForTable(kind *api.KindInfo, objs []api.Object) {
	if kind.Kind == "Event" {
		sortEvents(objs)
	}
}

// rowOf is an object's row, led by its namespace when the table spans
// namespaces.
func rowOf(cols columns, o api.Object, withNamespace bool) []string {
	row := cols.row(o)
	if withNamespace {
		row = append([]string{o.GetObjectMeta().Namespace}, row...)
	}
	return row
}

// podStatus is the one-word state people expect to see for a pod and its
// restart count, as kubectl shows them: while init containers run, their
// progress (Init:1/2) or trouble (Init:CrashLoopBackOff) and their restarts;
// then the app containers'.
func podStatus(p *api.Pod) (string, int32) {
	status, restarts, initializing := initProgress(p)
	if !initializing {
		status, restarts = appStatus(p)
	}
	if p.DeletionTimestamp != nil {
		return "Terminating", restarts
	}
	return status, restarts
}

// initProgress is the state of a pod whose init containers have not all
// completed: the first one that has not, with kubectl's words.
func initProgress(p *api.Pod) (string, int32, bool) {
	if c := api.FindCondition(p.Status.Conditions, api.PodInitialized); c != nil && c.Status == api.ConditionTrue {
		return "", 0, false
	}
	var restarts int32
	for i, cs := range p.Status.InitContainerStatuses {
		restarts += cs.RestartCount
		t, w := cs.State.Terminated, cs.State.Waiting
		switch {
		case t != nil && t.ExitCode == 0:
			continue
		case t != nil && t.Reason != "":
			return "Init:" + t.Reason, restarts, true
		case t != nil && t.Signal != 0:
			return fmt.Sprintf("Init:Signal:%d", t.Signal), restarts, true
		case t != nil:
			return fmt.Sprintf("Init:ExitCode:%d", t.ExitCode), restarts, true
		case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
			return "Init:" + w.Reason, restarts, true
		}
		return fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers)), restarts, true
	}
	return "", 0, false
}

// appStatus is the state of a pod past its init containers.
func appStatus(p *api.Pod) (string, int32) {
	var restarts int32
	for _, cs := range p.Status.ContainerStatuses {
		restarts += cs.RestartCount
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason, restarts
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" && p.Status.Phase != api.PodSucceeded {
			return t.Reason, restarts
		}
	}
	if p.Status.Phase == api.PodPending && p.Status.Reason != "" {
		return p.Status.Reason, restarts
	}
	if c := api.FindCondition(p.Status.Conditions, api.PodScheduled); c != nil && c.Status == api.ConditionFalse {
		return "Pending", restarts
	}
	return dash(string(p.Status.Phase)), restarts
}

// age renders the time since t like kubectl: 45s, 12m, 3h, 5d.
func age(t time.Time) string { return ageAt(t, time.Now()) }

// ageAt renders the time from t to now like kubectl: 45s, 12m, 3h, 5d.
func ageAt(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func dash(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func truncateList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ",")
	}
	return strings.Join(items[:n], ",") + fmt.Sprintf(" + %d more...", len(items)-n)
}

// autoscalerTargets shows each metric as current/target, as kubectl does
// ("cpu: 150%/50%, memory: 96Mi/256Mi"; <unknown> before a measure).
func autoscalerTargets(a *api.Autoscaler) string {
	var out []string
	for _, m := range a.Spec.Metrics {
		name, t := m.Resource.Name, m.Resource.Target
		current, target := "<unknown>", ""
		var cur *api.MetricStatus
		for i := range a.Status.CurrentMetrics {
			if a.Status.CurrentMetrics[i].Name == name {
				cur = &a.Status.CurrentMetrics[i]
			}
		}
		switch {
		case t.AverageUtilization != nil:
			target = itoa(*t.AverageUtilization) + "%"
			if cur != nil && cur.AverageUtilization != nil {
				current = itoa(*cur.AverageUtilization) + "%"
			}
		case t.AverageValue != nil:
			target = t.AverageValue.String()
			if cur != nil && cur.AverageValue != nil {
				current = cur.AverageValue.String()
			}
		}
		out = append(out, string(name)+": "+current+"/"+target)
	}
	if len(out) == 0 {
		return "<none>"
	}
	return strings.Join(out, ", ")
}
