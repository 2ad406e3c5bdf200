package api

import (
	"time"
)

// Resource usage, as reported by node agents and served by the API server
// from memory (never stored in etcd). CPU is a rate in cores ("250m" is a
// quarter of a core, averaged over WindowSeconds); memory is the working
// set in bytes.

// Kinds of the metrics API (served, never stored).
const (
	KindPodMetrics    = "PodMetrics"
	KindNodeMetrics   = "NodeMetrics"
	KindMetricsReport = "NodeMetricsReport"
)

// ContainerMetrics is one container's usage.
type ContainerMetrics struct {
	Name  string       `json:"name"`
	Usage ResourceList `json:"usage"`
}

// PodMetrics is the usage of a pod's containers (GET
// /v1/namespaces/{ns}/podmetrics[/{name}]). Its metadata is the pod's name,
// namespace and labels.
type PodMetrics struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	// Timestamp is when the usage was sampled; the cpu rate covers the
	// WindowSeconds before it.
	Timestamp     time.Time          `json:"timestamp"`
	WindowSeconds int64              `json:"windowSeconds"`
	Containers    []ContainerMetrics `json:"containers"`
}

// NodeMetrics is a whole node's usage (GET /v1/nodemetrics[/{name}]).
type NodeMetrics struct {
	TypeMeta      `json:",inline"`
	ObjectMeta    `json:"metadata"`
	Timestamp     time.Time    `json:"timestamp"`
	WindowSeconds int64        `json:"windowSeconds"`
	Usage         ResourceList `json:"usage"`
}

// PodMetricsList is the answer to a podmetrics list.
type PodMetricsList struct {
	TypeMeta `json:",inline"`
	Items    []PodMetrics `json:"items"`
}

// NodeMetricsList is the answer to a nodemetrics list.
type NodeMetricsList struct {
	TypeMeta `json:",inline"`
	Items    []NodeMetrics `json:"items"`
}

// NodeMetricsReport is what an agent POSTs to /v1/nodemetrics/{node}
// every metrics interval: its node's usage and that of the pods running on
// it. A report replaces the node's previous one.
type NodeMetricsReport struct {
	TypeMeta `json:",inline"`
	// Node is the reporting node; it must be the caller's own.
	Node          string       `json:"node"`
	Timestamp     time.Time    `json:"timestamp"`
	WindowSeconds int64        `json:"windowSeconds"`
	Usage         ResourceList `json:"usage"`
	Pods          []PodUsage   `json:"pods,omitempty"`
}

// PodUsage is one pod's usage in a NodeMetricsReport. UID tells a pod from
// a later one of the same name.
type PodUsage struct {
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	UID        string             `json:"uid,omitempty"`
	Containers []ContainerMetrics `json:"containers"`
}

// MaxReportPods bounds the pods of one report (a node runs far fewer).
const MaxReportPods = 1000

// ValidateNodeMetricsReport checks a report; errors name the field.
func ValidateNodeMetricsReport(r *NodeMetricsReport) ErrorList {
	var errs ErrorList
	if r.Node == "" {
		errs = append(errs, Required(NewPath("node"), "the reporting node's name"))
	}
	if r.Timestamp.IsZero() {
		errs = append(errs, Required(NewPath("timestamp"), "when the usage was sampled"))
	}
	if r.WindowSeconds <= 0 {
		errs = append(errs, Invalid(NewPath("windowSeconds"), r.WindowSeconds, "must be positive (the seconds the cpu rate is averaged over)"))
	}
	errs = append(errs, validateUsage(NewPath("usage"), r.Usage)...)
	if len(r.Pods) > MaxReportPods {
		errs = append(errs, TooMany(NewPath("pods"), len(r.Pods), MaxReportPods))
		return errs
	}
	seen := make(map[string]bool, len(r.Pods))
	for i, p := range r.Pods {
		pp := NewPath("pods").Index(i)
		if p.Namespace == "" {
			errs = append(errs, Required(pp.Child("namespace"), ""))
		}
		if p.Name == "" {
			errs = append(errs, Required(pp.Child("name"), ""))
		}
		if k := Key(p.Namespace, p.Name); seen[k] {
			errs = append(errs, Duplicate(pp, k))
		} else {
			seen[k] = true
		}
		names := make(map[string]bool, len(p.Containers))
		for j, c := range p.Containers {
			cp := pp.Child("containers").Index(j)
			if c.Name == "" {
				errs = append(errs, Required(cp.Child("name"), ""))
			} else if names[c.Name] {
				errs = append(errs, Duplicate(cp.Child("name"), c.Name))
			}
			names[c.Name] = true
			errs = append(errs, validateUsage(cp.Child("usage"), c.Usage)...)
		}
	}
	return errs
}

// validateUsage accepts cpu and memory, neither negative.
func validateUsage(p Path, u ResourceList) ErrorList {
	var errs ErrorList
	for name, q := range u {
		switch name {
		case ResourceCPU, ResourceMemory:
			if q.Sign() < 0 {
				errs = append(errs, Invalid(p.Key(string(name)), q.String(), "must not be negative"))
			}
		default:
			errs = append(errs, NotSupported(p.Key(string(name)), name, ResourceCPU, ResourceMemory))
		}
	}
	return errs
}
