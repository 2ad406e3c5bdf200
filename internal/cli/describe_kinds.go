package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// describeKinds says what `maestro describe` shows of each kind after the
// metadata (conditions and events follow for every kind). A kind missing
// here shows its metadata, conditions and events only; TestDescribeEveryKind
// keeps every kind listed.
var describeKinds = map[string][]section{
	"Namespace": {{fields: []field{{label: "Status", path: "status.phase"}}}},
	"Node": {{fields: []field{
		{label: "Status", of: typed(func(n *api.Node) []string { return []string{nodeStatus(n)} })},
		{label: "Pool", of: typed(func(n *api.Node) []string { return lines(n.Labels[api.LabelNodePool]) })},
		{label: "Zone", of: typed(func(n *api.Node) []string { return lines(n.Labels[api.LabelZone]) })},
		{label: "Unschedulable", path: "spec.unschedulable", show: showBool},
		{label: "Taints", path: "spec.taints", show: showTaints},
		{label: "Provider ID", path: "spec.providerID", optional: true},
		{label: "Pod CIDR", path: "spec.podCIDR"},
		{label: "Addresses", path: "status.addresses", show: showAddresses},
		{label: "Last Heartbeat", optional: true, of: typed(func(n *api.Node) []string {
			if t := api.NodeHeartbeat(n); !t.IsZero() {
				return []string{formatTime(t)}
			}
			return nil
		})},
		{label: "Capacity", path: "status.capacity"},
		{label: "Allocatable", path: "status.allocatable"},
		{label: "System Info", path: "status.nodeInfo"},
		{label: "Network", path: "status.network", optional: true},
	}}},
	"NodePool": {
		{fields: []field{
			{label: "Provider", path: "spec.provider"},
			{label: "Size", path: "spec.size"},
			{label: "Min Size", path: "spec.minSize"},
			{label: "Max Size", path: "spec.maxSize"},
			{label: "Autoscaling", path: "spec.autoscaling", show: showBool},
			{label: "Machine Type", path: "spec.machineType", optional: true},
			{label: "Zones", path: "spec.zones"},
			{label: "Spot", path: "spec.spot", show: showBool},
			{label: "Node Labels", path: "spec.labels"},
			{label: "Node Taints", path: "spec.taints", show: showTaints},
			{label: "Drain Timeout", path: "spec.drainTimeoutSeconds", show: showSeconds},
		}},
		{title: "Rollout", fields: []field{
			{label: "Max Surge", path: "spec.rollout.maxSurge"},
			{label: "Max Unavailable", path: "spec.rollout.maxUnavailable"},
		}},
		{title: "Remediation", fields: []field{
			{label: "Startup Timeout", path: "spec.remediation.startupTimeoutSeconds", show: showSeconds},
			{label: "NotReady Timeout", path: "spec.remediation.notReadyTimeoutSeconds", show: showSeconds},
			{label: "Max In Flight", path: "spec.remediation.maxInFlight"},
		}},
		{title: "SSH", path: "spec.ssh", fields: []field{
			{label: "Hosts", path: "spec.ssh.hosts"},
			{label: "User", path: "spec.ssh.user"},
			{label: "Port", path: "spec.ssh.port"},
			{label: "Private Key Secret", path: "spec.ssh.privateKeySecretRef"},
			{label: "Pinned Host Keys", path: "spec.ssh.hostKeys", show: showCount},
			{label: "Insecure Ignore Host Key", path: "spec.ssh.insecureIgnoreHostKey", show: showBool},
			{label: "Install Dir", path: "spec.ssh.installDir"},
		}},
		{title: "AWS", path: "spec.aws", fields: []field{{label: "Settings", path: "spec.aws"}}},
		{title: "GCP", path: "spec.gcp", fields: []field{{label: "Settings", path: "spec.gcp"}}},
		{title: "Machines", fields: []field{
			{label: "Total", path: "status.machines"},
			{label: "Ready", path: "status.readyMachines"},
			{label: "Up-to-date", path: "status.updatedMachines"},
			// The current template's hash: machines labelled with another
			// are replaced by a rollout.
			{label: "Template", path: "status.templateHash", optional: true},
		}},
	},
	"Machine": {
		{fields: []field{
			{label: "Pool", path: "spec.pool"},
			{label: "Provider", path: "spec.provider"},
			{label: "Machine Type", path: "spec.machineType", optional: true},
			{label: "Zone", path: "spec.zone", optional: true},
			{label: "Host", path: "spec.host", optional: true},
			{label: "Spot", path: "spec.spot", show: showBool},
			{label: "Template", of: typed(func(m *api.Machine) []string { return lines(m.Labels[api.LabelTemplateHash]) })},
			{label: "Node Labels", path: "spec.labels"},
			{label: "Node Taints", path: "spec.taints", show: showTaints},
		}},
		{title: "Status", fields: []field{
			{label: "Phase", path: "status.phase"},
			{label: "Node", path: "status.nodeName"},
			{label: "Provider ID", path: "status.providerID"},
			{label: "Addresses", path: "status.addresses", show: showAddresses},
			{label: "Message", path: "status.message", optional: true},
			{label: "Join Token", path: "status.joinTokenID", optional: true},
			{label: "Provisioned", path: "status.provisionedAt", show: showTime},
			{label: "Node Ready", path: "status.nodeReadyAt", show: showTime},
		}},
	},
	"Pod": {
		{fields: []field{
			{label: "Node", path: "spec.nodeName"},
			{label: "Status", of: typed(func(p *api.Pod) []string { s, _ := podStatus(p); return []string{s} })},
			{label: "Reason", path: "status.reason", optional: true},
			{label: "Message", path: "status.message", optional: true},
			{label: "IP", path: "status.podIP"},
			{label: "Host IP", path: "status.hostIP", optional: true},
			{label: "Start Time", path: "status.startTime", show: showTime},
			{label: "Restart Policy", path: "spec.restartPolicy"},
			{label: "Priority", path: "spec.priority", optional: true},
			{label: "Node Selector", path: "spec.nodeSelector"},
			{label: "Tolerations", path: "spec.tolerations", show: showTolerations},
			{label: "Affinity", path: "spec.affinity", optional: true},
			{label: "Topology Spread", path: "spec.topologySpreadConstraints", optional: true},
			{label: "Security Context", path: "spec.securityContext", optional: true},
			{label: "Image Pull Secrets", path: "spec.imagePullSecrets", show: showNames, optional: true},
			{label: "Init Containers", path: "spec.initContainers", each: containerFields, join: "status.initContainerStatuses", optional: true},
			{label: "Containers", path: "spec.containers", each: containerFields, join: "status.containerStatuses"},
			{label: "Volumes", path: "spec.volumes", show: showVolumes},
		}},
	},
	"ReplicaSet": {
		{fields: []field{
			{label: "Selector", of: typed(func(rs *api.ReplicaSet) []string { return selectorLine(rs.Spec.Selector) })},
			{label: "Replicas", of: typed(func(rs *api.ReplicaSet) []string {
				return []string{fmt.Sprintf("%d current / %d desired", rs.Status.Replicas, api.Deref(rs.Spec.Replicas, 1))}
			})},
			{label: "Pods Status", of: typed(func(rs *api.ReplicaSet) []string {
				return []string{fmt.Sprintf("%d ready / %d available", rs.Status.ReadyReplicas, rs.Status.AvailableReplicas)}
			})},
			{label: "Min Ready Seconds", path: "spec.minReadySeconds", optional: true},
		}},
		podTemplateSection,
	},
	"Deployment": {
		{fields: []field{
			{label: "Selector", of: typed(func(d *api.Deployment) []string { return selectorLine(d.Spec.Selector) })},
			{label: "Replicas", of: typed(func(d *api.Deployment) []string {
				s := d.Status
				return []string{fmt.Sprintf("%d desired | %d updated | %d total | %d available | %d unavailable",
					api.Deref(d.Spec.Replicas, 1), s.UpdatedReplicas, s.Replicas, s.AvailableReplicas, s.UnavailableReplicas)}
			})},
			{label: "Revision", of: typed(func(d *api.Deployment) []string { return lines(d.Annotations[api.AnnotationRevision]) }), optional: true},
			{label: "Strategy", path: "spec.strategy.type"},
			{label: "Rolling Update", path: "spec.strategy.rollingUpdate", show: showCompact, optional: true},
			{label: "Min Ready Seconds", path: "spec.minReadySeconds", optional: true},
			{label: "Progress Deadline", path: "spec.progressDeadlineSeconds", show: showSeconds},
			{label: "Paused", path: "spec.paused", show: showBool},
		}},
		podTemplateSection,
	},
	"Service": {{fields: []field{
		{label: "Type", path: "spec.type"},
		{label: "Selector", path: "spec.selector"},
		{label: "Cluster IP", path: "spec.clusterIP"},
		{label: "Ports", path: "spec.ports", show: showEach(func(m map[string]any) string {
			s := fmt.Sprintf("%s/%s -> %s", str(m, "port"), orDefault(str(m, "protocol"), "TCP"), orDefault(str(m, "targetPort"), str(m, "port")))
			if np := str(m, "nodePort"); np != "" {
				s += " (node port " + np + ")"
			}
			return strings.TrimSpace(str(m, "name") + " " + s)
		})},
		{label: "Session Affinity", path: "spec.sessionAffinity", optional: true},
		{label: "Load Balancer", path: "status.loadBalancer.ingress", optional: true},
	}}},
	"Endpoints": {{fields: []field{
		{label: "Addresses", of: typed(func(e *api.Endpoints) []string { return endpointLines(e, false) })},
		{label: "Not Ready", of: typed(func(e *api.Endpoints) []string { return endpointLines(e, true) }), optional: true},
	}}},
	"ConfigMap": {{fields: []field{
		{label: "Immutable", path: "immutable", show: showBool},
		{label: "Data", path: "data", show: showData},
		{label: "Binary Data", path: "binaryData", show: showSizes, optional: true},
	}}},
	"Secret": {{fields: []field{
		{label: "Type", path: "type"},
		{label: "Immutable", path: "immutable", show: showBool},
		// Only keys and sizes: a description is read on screens and in
		// tickets.
		{label: "Data", path: "data", show: showSizes},
	}}},
	"Volume": {{fields: []field{
		{label: "Reclaim Policy", path: "spec.reclaimPolicy"},
		{label: "Pinned To Node", path: "spec.nodeName", optional: true},
		{label: "Phase", path: "status.phase"},
		{label: "Node", path: "status.nodeName"},
		{label: "Used By", path: "status.usedBy"},
	}}},
	"Autoscaler": {{fields: []field{
		{label: "Target", of: typed(func(a *api.Autoscaler) []string {
			return []string{a.Spec.ScaleTargetRef.Kind + "/" + a.Spec.ScaleTargetRef.Name}
		})},
		{label: "Min Replicas", path: "spec.minReplicas"},
		{label: "Max Replicas", path: "spec.maxReplicas"},
		{label: "Metrics", path: "spec.metrics"},
		{label: "Behavior", path: "spec.behavior", show: showCompact, optional: true},
		{label: "Current Replicas", path: "status.currentReplicas"},
		{label: "Desired Replicas", path: "status.desiredReplicas"},
		{label: "Current Metrics", path: "status.currentMetrics"},
		{label: "Last Scale", path: "status.lastScaleTime", show: showTime},
	}}},
	"Event": {{fields: []field{
		{label: "Object", of: typed(func(e *api.Event) []string {
			r := e.InvolvedObject
			return []string{strings.ToLower(r.Kind) + "/" + api.Key(r.Namespace, r.Name)}
		})},
		{label: "Type", path: "type"},
		{label: "Reason", path: "reason"},
		{label: "Message", path: "message"},
		{label: "Count", path: "count"},
		{label: "First Seen", path: "firstTimestamp", show: showTime},
		{label: "Last Seen", path: "lastTimestamp", show: showTime},
		{label: "From", path: "source"},
	}}},
}

// containerFields describe one container of a pod, its status joined in
// under "status"; a pod template's containers show containerSpecFields.
var containerFields = append(slices.Clip(containerSpecFields), containerStatusFields...)

var containerSpecFields = []field{
	{label: "Image", path: "image"},
	{label: "Command", path: "command", show: showList, optional: true},
	{label: "Args", path: "args", show: showList, optional: true},
	{label: "Ports", path: "ports", show: showEach(func(m map[string]any) string {
		s := str(m, "containerPort") + "/" + orDefault(str(m, "protocol"), "TCP")
		if hp := str(m, "hostPort"); hp != "" {
			s += " (host port " + hp + ")"
		}
		return strings.TrimSpace(str(m, "name") + " " + s)
	}), optional: true},
	{label: "Requests", path: "resources.requests", optional: true},
	{label: "Limits", path: "resources.limits", optional: true},
	{label: "Environment", path: "env", show: showEnv, optional: true},
	{label: "Environment From", path: "envFrom", optional: true},
	{label: "Security Context", path: "securityContext", optional: true},
	{label: "Mounts", path: "volumeMounts", show: showEach(func(m map[string]any) string {
		s := str(m, "mountPath") + " from " + str(m, "name")
		if sp := str(m, "subPath"); sp != "" {
			s += " (subPath " + sp + ")"
		}
		if m["readOnly"] == true {
			s += " (ro)"
		}
		return s
	}), optional: true},
	{label: "Liveness", path: "livenessProbe", show: showCompact, optional: true},
	{label: "Readiness", path: "readinessProbe", show: showCompact, optional: true},
	{label: "Startup", path: "startupProbe", show: showCompact, optional: true},
}

var containerStatusFields = []field{
	{label: "State", path: "status.state", show: showContainerState},
	{label: "Last State", path: "status.lastState", show: showContainerState, optional: true},
	{label: "Ready", path: "status.ready", show: showBool},
	{label: "Restart Count", path: "status.restartCount"},
	{label: "Container ID", path: "status.containerID", optional: true},
}

// podTemplateSection describes the pods a workload makes.
var podTemplateSection = section{title: "Pod Template", fields: []field{
	{label: "Labels", path: "spec.template.metadata.labels"},
	{label: "Node Selector", path: "spec.template.spec.nodeSelector", optional: true},
	{label: "Tolerations", path: "spec.template.spec.tolerations", show: showTolerations, optional: true},
	{label: "Security Context", path: "spec.template.spec.securityContext", optional: true},
	{label: "Image Pull Secrets", path: "spec.template.spec.imagePullSecrets", show: showNames, optional: true},
	{label: "Init Containers", path: "spec.template.spec.initContainers", each: containerSpecFields, optional: true},
	{label: "Containers", path: "spec.template.spec.containers", each: containerSpecFields},
	{label: "Volumes", path: "spec.template.spec.volumes", show: showVolumes, optional: true},
}}

// typed adapts a function of one kind to a field's of.
func typed[T api.Object](f func(T) []string) func(api.Object) []string {
	return func(o api.Object) []string { return f(o.(T)) }
}

// lines is one line, or none for "".
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func selectorLine(s *api.LabelSelector) []string {
	sel, err := api.AsSelector(s)
	if err != nil {
		return []string{fmt.Sprintf("<invalid: %v>", err)}
	}
	return lines(sel.String())
}

var showTaints = showEach(func(m map[string]any) string {
	s := str(m, "key")
	if v := str(m, "value"); v != "" {
		s += "=" + v
	}
	return s + ":" + str(m, "effect")
})

var showTolerations = showEach(func(m map[string]any) string {
	s := orDefault(str(m, "key"), "<any key>")
	switch {
	case str(m, "operator") == api.TolerationOpExists:
		s += " exists"
	case str(m, "value") != "":
		s += "=" + str(m, "value")
	}
	s += ":" + orDefault(str(m, "effect"), "<any effect>")
	if sec := str(m, "tolerationSeconds"); sec != "" {
		s += " for " + sec + "s"
	}
	return s
})

var showAddresses = showEach(func(m map[string]any) string { return str(m, "type") + ": " + str(m, "address") })

// showEnv renders variables; those from a secret or config map name it and
// the key, never the value.
var showEnv = showEach(func(m map[string]any) string {
	name := str(m, "name")
	from, _ := m["valueFrom"].(map[string]any)
	for key, what := range map[string]string{"secretKeyRef": "secret", "configMapKeyRef": "config map"} {
		if ref, ok := from[key].(map[string]any); ok {
			return fmt.Sprintf("%s from %s %s key %s", name, what, str(ref, "name"), str(ref, "key"))
		}
	}
	if ref, ok := from["fieldRef"].(map[string]any); ok {
		return name + " from field " + str(ref, "fieldPath")
	}
	return name + "=" + compact(m["value"])
})

// showVolumes renders a pod's volumes as "name: source (settings)".
var showVolumes = showEach(func(m map[string]any) string {
	name := str(m, "name")
	for k, v := range m {
		if k == "name" {
			continue
		}
		if settings := compact(v); settings != "" {
			return fmt.Sprintf("%s: %s (%s)", name, k, settings)
		}
		return name + ": " + k
	}
	return name
})

// showContainerState renders the one state a container is in: "Running
// since ...", "Waiting: CrashLoopBackOff (message)", "Terminated: Error
// (exit code 1) at ...".
func showContainerState(v any) []string {
	m, _ := v.(map[string]any)
	if r, ok := m["running"].(map[string]any); ok {
		return []string{"Running since " + showTime(r["startedAt"])[0]}
	}
	if w, ok := m["waiting"].(map[string]any); ok {
		return []string{strings.TrimSpace("Waiting: " + str(w, "reason") + " " + parens(str(w, "message")))}
	}
	if t, ok := m["terminated"].(map[string]any); ok {
		s := fmt.Sprintf("Terminated: %s (exit code %s", orDefault(str(t, "reason"), "-"), orDefault(str(t, "exitCode"), "0"))
		if sig := str(t, "signal"); sig != "" {
			s += ", signal " + sig
		}
		s += ")"
		if t["finishedAt"] != nil {
			s += " at " + showTime(t["finishedAt"])[0]
		}
		return []string{strings.TrimSpace(s + " " + parens(str(t, "message")))}
	}
	return nil
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + strings.ReplaceAll(s, "\n", `\n`) + ")"
}

// showData renders a config map's data: "key: value" for one-line values,
// a block under "key:" for longer ones.
func showData(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		val := str(m, k)
		if !strings.Contains(strings.TrimRight(val, "\n"), "\n") {
			out = append(out, k+": "+val)
			continue
		}
		out = append(out, k+":")
		for _, l := range strings.Split(strings.TrimRight(val, "\n"), "\n") {
			out = append(out, "  "+l)
		}
	}
	return out
}

// endpointLines lists an Endpoints object's ready (or not ready) addresses
// with their ports: "10.244.1.5:8080 (node-1, pod web-x)".
func endpointLines(e *api.Endpoints, notReady bool) []string {
	var out []string
	for _, s := range e.Subsets {
		addrs := s.Addresses
		if notReady {
			addrs = s.NotReadyAddresses
		}
		for _, a := range addrs {
			var where []string
			if a.NodeName != "" {
				where = append(where, a.NodeName)
			}
			if a.TargetRef != nil {
				where = append(where, strings.ToLower(a.TargetRef.Kind)+" "+a.TargetRef.Name)
			}
			for _, p := range s.Ports {
				line := fmt.Sprintf("%s:%d", a.IP, p.Port)
				if len(where) > 0 {
					line += " (" + strings.Join(where, ", ") + ")"
				}
				out = append(out, line)
			}
		}
	}
	return out
}

// showNames lists the names of object references ([{name: a}, {name: b}]
// as "a, b").
var showNames = showEach(func(m map[string]any) string { return str(m, "name") })
