package client

import (
	"strings"
)

// schedulingAdvice maps each of the scheduler's rejection texts (its
// counted reasons: "0/3 nodes available: 3 node(s) didn't match pod
// anti-affinity rules") to what helps. The keys are the scheduler's own
// wording; a test in engine/scheduler checks that every reason it can
// give has an entry here, so the two cannot drift apart.
var schedulingAdvice = []struct{ reason, advice string }{
	{"node(s) didn't match pod anti-affinity rules",
		"add nodes (one per replica in each topology domain of the rule) or relax the anti-affinity " +
			"(fewer replicas, a preferred rule instead of a required one, or a wider topology key)"},
	{"node(s) didn't match pod affinity rules",
		"run the pods the affinity asks for first, or relax the affinity (a preferred rule, or a wider topology key)"},
	{"node(s) didn't match pod topology spread constraints",
		"add nodes in more topology domains, raise max_skew, or set when_unsatisfiable = \"ScheduleAnyway\""},
	{"insufficient cpu", "lower the pods' cpu requests or grow the node pool (more or larger nodes)"},
	{"insufficient memory", "lower the pods' memory requests or grow the node pool (more or larger nodes)"},
	{"too many pods", "add nodes or raise the nodes' pod limit"},
	{"node(s) didn't match Pod's node affinity/selector",
		"label nodes to match the pods' node selector or node affinity, or change the selector"},
	{"node(s) had untolerated taint(s)", "add tolerations for the nodes' taints to the pods, or remove the taints from the nodes"},
	{"node(s) were unschedulable", "make the cordoned nodes schedulable again (spec.unschedulable = false) or add nodes"},
	{"node(s) were not ready", "bring the nodes that are not ready back (their agents must heartbeat) or add nodes"},
	{"node(s) didn't have free ports for the requested pod ports",
		"drop the host port (a service reaches the pods without one) or add nodes: each node holds one pod per host port"},
	{"node(s) can't use the pod's volumes",
		"the pods' volumes tie them to the node that holds the volume data: make room on that node or use another volume"},
	{"node(s) had no pod network", "wait for the nodes to get their pod network (a pod CIDR) or check their agents' logs"},
}

// SchedulingReasons lists the scheduler rejection texts the advice table
// knows (for the scheduler's test that keeps the two in step).
func SchedulingReasons() []string {
	out := make([]string, len(schedulingAdvice))
	for i, a := range schedulingAdvice {
		out[i] = a.reason
	}
	return out
}

// RolloutAdvice says what helps a rollout that failed for reason, with
// message the cause as reported (for scheduling, the scheduler's counted
// reasons: the advice names what each of them needs, and only that).
func RolloutAdvice(reason RolloutReason, message string) string {
	switch reason {
	case RolloutCrashLoop:
		return "Fix the container so it keeps running (its exit code and last log lines are above; check its command, arguments, environment and configuration), then roll it out again."
	case RolloutImagePull:
		if strings.Contains(message, "cannot be pulled") {
			return "The image is not on the node and image_pull_policy is \"Never\": load the image onto the nodes, or let them pull it (IfNotPresent)."
		}
		return "Check the image's name and tag (the registry's answer is above), that the nodes can reach its registry, and, for a private registry, the pod's image_pull_secrets; then roll it out again."
	case RolloutProgressDeadline:
		return "Fix what keeps the new pods from becoming available (the pods' problems are above), or raise progress_deadline_seconds for rollouts that are slow but healthy."
	case RolloutTimeout:
		if s := SchedulingAdvice(message); s != "" {
			return s
		}
		return "Raise the timeout for slow rollouts, or fix what keeps the new pods from becoming available (the pods' problems are above)."
	case RolloutNoPoolCanHold:
		s := SchedulingAdvice(message)
		if s == "" {
			return "No node pool's machines could ever hold the pod: add a node pool whose nodes fit it, or change the pod to fit an existing pool."
		}
		return s + " No node pool can add a node that would hold the pod, so waiting does not help."
	case RolloutUnschedulable:
		if s := SchedulingAdvice(message); s != "" {
			return s
		}
		return "Make room for the pods (add nodes) or change what the pods require of a node."
	}
	return ""
}

// SchedulingAdvice is the advice for each scheduler reason message names
// ("To fix: ...; ..."), in the table's order; "" when it names none. Plan
// warnings of pods that would not fit can use it as the rollout wait does.
func SchedulingAdvice(message string) string {
	var parts []string
	for _, a := range schedulingAdvice {
		if strings.Contains(message, a.reason) {
			parts = append(parts, a.advice)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	return "To fix: " + s + "."
}
