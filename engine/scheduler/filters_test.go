package scheduler

import (
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// filterCase runs one filter for a pod against one node of a small cluster.
type filterCase struct {
	name     string
	nodes    []*api.Node
	existing []*api.Pod
	pod      *api.Pod
	node     string // defaults to the first node
	want     []Reason
}

func runFilterCases(t *testing.T, f Filter, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := NewSnapshotFrom(tc.nodes, tc.existing)
			var st CycleState
			st.PreFilter(snap, mustPodInfo(t, tc.pod))
			name := tc.node
			if name == "" {
				name = tc.nodes[0].Name
			}
			n := snap.Get(name)
			if n == nil {
				t.Fatalf("node %s not in snapshot", name)
			}
			got := f.Filter(&st, n).Reasons()
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func one(n *api.Node) []*api.Node { return []*api.Node{n} }

func TestNodeReadyFilter(t *testing.T) {
	runFilterCases(t, nodeReadyFilter{}, []filterCase{
		{name: "ready", nodes: one(node("n1")), pod: pod("p")},
		{name: "not ready", nodes: one(node("n1", notReady())), pod: pod("p"), want: []Reason{ReasonNodeNotReady}},
		{name: "cordoned", nodes: one(node("n1", cordoned())), pod: pod("p"), want: []Reason{ReasonNodeUnschedulable}},
		{name: "cordoned but tolerated", nodes: one(node("n1", cordoned())),
			pod: pod("p", toleration(api.TaintNodeUnschedulable, api.TolerationOpExists, "", api.TaintNoSchedule))},
		{name: "not ready wins over cordoned", nodes: one(node("n1", cordoned(), notReady())), pod: pod("p"),
			want: []Reason{ReasonNodeNotReady}},
	})
}

func TestNodeNetworkFilter(t *testing.T) {
	noNetwork := func(status api.ConditionStatus) nodeOpt {
		return func(n *api.Node) {
			n.Status.Conditions = append(n.Status.Conditions, api.Condition{Type: api.NodeNetworkUnavailable, Status: status, Reason: "PodCIDRExhausted"})
		}
	}
	runFilterCases(t, nodeNetworkFilter{}, []filterCase{
		{name: "no condition", nodes: one(node("n1")), pod: pod("p")},
		{name: "network available", nodes: one(node("n1", noNetwork(api.ConditionFalse))), pod: pod("p")},
		{name: "network unavailable", nodes: one(node("n1", noNetwork(api.ConditionTrue))), pod: pod("p"),
			want: []Reason{ReasonNetworkUnavailable}},
	})
	// hostNetwork pods skip the stage (the pipeline's skip function).
	p, err := NewPipeline(PipelineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	snap := NewSnapshotFrom(one(node("n1", noNetwork(api.ConditionTrue))), nil)
	for _, tc := range []struct {
		host bool
		want string
	}{{false, ""}, {true, "n1"}} {
		pd := pod("p")
		pd.Spec.HostNetwork = tc.host
		res := p.Schedule(snap, mustPodInfo(t, pd))
		if res.Node != tc.want {
			t.Errorf("hostNetwork=%v: placed on %q, want %q (%s)", tc.host, res.Node, tc.want, res.Diagnosis.Message())
		}
		if tc.want == "" && !strings.Contains(res.Diagnosis.Message(), "1 node(s) had no pod network") {
			t.Errorf("diagnosis %q does not say the node had no pod network", res.Diagnosis.Message())
		}
	}
}

func TestTaintFilter(t *testing.T) {
	tainted := func(effect api.TaintEffect) []*api.Node { return one(node("n1", taint("dedicated", "gpu", effect))) }
	runFilterCases(t, taintFilter{}, []filterCase{
		{name: "no taints", nodes: one(node("n1")), pod: pod("p")},
		{name: "NoSchedule untolerated", nodes: tainted(api.TaintNoSchedule), pod: pod("p"), want: []Reason{ReasonTaints}},
		{name: "NoExecute untolerated", nodes: tainted(api.TaintNoExecute), pod: pod("p"), want: []Reason{ReasonTaints}},
		{name: "PreferNoSchedule only scores", nodes: tainted(api.TaintPreferNoSchedule), pod: pod("p")},
		{name: "Equal with key, value and effect", nodes: tainted(api.TaintNoSchedule),
			pod: pod("p", toleration("dedicated", api.TolerationOpEqual, "gpu", api.TaintNoSchedule))},
		{name: "Equal with another value", nodes: tainted(api.TaintNoSchedule),
			pod: pod("p", toleration("dedicated", api.TolerationOpEqual, "cpu", api.TaintNoSchedule)), want: []Reason{ReasonTaints}},
		{name: "empty operator means Equal", nodes: tainted(api.TaintNoSchedule),
			pod: pod("p", toleration("dedicated", "", "gpu", ""))},
		{name: "Exists ignores the value", nodes: tainted(api.TaintNoExecute),
			pod: pod("p", toleration("dedicated", api.TolerationOpExists, "", ""))},
		{name: "Exists with another key", nodes: tainted(api.TaintNoExecute),
			pod: pod("p", toleration("other", api.TolerationOpExists, "", "")), want: []Reason{ReasonTaints}},
		{name: "empty key with Exists tolerates everything", nodes: one(node("n1", taint("a", "1", api.TaintNoSchedule), taint("b", "2", api.TaintNoExecute))),
			pod: pod("p", toleration("", api.TolerationOpExists, "", ""))},
		{name: "effect must match", nodes: tainted(api.TaintNoExecute),
			pod: pod("p", toleration("dedicated", api.TolerationOpEqual, "gpu", api.TaintNoSchedule)), want: []Reason{ReasonTaints}},
		{name: "empty effect matches all effects", nodes: tainted(api.TaintNoExecute),
			pod: pod("p", toleration("dedicated", api.TolerationOpEqual, "gpu", ""))},
		{name: "one of two taints untolerated", nodes: one(node("n1", taint("a", "1", api.TaintNoSchedule), taint("b", "2", api.TaintNoSchedule))),
			pod: pod("p", toleration("a", api.TolerationOpEqual, "1", api.TaintNoSchedule)), want: []Reason{ReasonTaints}},
	})
}

func TestNodeAffinityFilter(t *testing.T) {
	labelled := one(node("n1", zone("z1"), nodeLabel("disk", "ssd"), nodeLabel("cores", "8"), nodeLabel("name", "x")))
	field := func(op string, values ...string) api.NodeSelectorTerm {
		return api.NodeSelectorTerm{MatchFields: []api.NodeSelectorRequirement{{Key: "metadata.name", Operator: op, Values: values}}}
	}
	both := api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{
		{Key: "disk", Operator: api.SelectorOpIn, Values: []string{"ssd"}},
		{Key: "cores", Operator: api.NodeSelectorOpGt, Values: []string{"16"}},
	}}
	miss := []Reason{ReasonNodeAffinity}
	cases := []filterCase{
		{name: "no constraints", pod: pod("p")},
		{name: "nodeSelector matches", pod: pod("p", nodeSelector("disk", "ssd"))},
		{name: "nodeSelector value differs", pod: pod("p", nodeSelector("disk", "hdd")), want: miss},
		{name: "nodeSelector key missing", pod: pod("p", nodeSelector("gpu", "yes")), want: miss},
		{name: "In matches", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpIn, "hdd", "ssd")))},
		{name: "In misses", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpIn, "hdd"))), want: miss},
		{name: "In on a missing key", pod: pod("p", requiredNodeTerms(expr("gpu", api.SelectorOpIn, "yes"))), want: miss},
		{name: "NotIn with another value", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpNotIn, "hdd")))},
		{name: "NotIn with the value", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpNotIn, "ssd"))), want: miss},
		{name: "NotIn on a missing key", pod: pod("p", requiredNodeTerms(expr("gpu", api.SelectorOpNotIn, "yes")))},
		{name: "Exists", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpExists)))},
		{name: "Exists on a missing key", pod: pod("p", requiredNodeTerms(expr("gpu", api.SelectorOpExists))), want: miss},
		{name: "DoesNotExist", pod: pod("p", requiredNodeTerms(expr("gpu", api.SelectorOpDoesNotExist)))},
		{name: "DoesNotExist on a present key", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpDoesNotExist))), want: miss},
		{name: "Gt below", pod: pod("p", requiredNodeTerms(expr("cores", api.NodeSelectorOpGt, "4")))},
		{name: "Gt equal", pod: pod("p", requiredNodeTerms(expr("cores", api.NodeSelectorOpGt, "8"))), want: miss},
		{name: "Gt on a non-integer label", pod: pod("p", requiredNodeTerms(expr("name", api.NodeSelectorOpGt, "1"))), want: miss},
		{name: "Gt on a missing key", pod: pod("p", requiredNodeTerms(expr("gpus", api.NodeSelectorOpGt, "1"))), want: miss},
		{name: "Lt above", pod: pod("p", requiredNodeTerms(expr("cores", api.NodeSelectorOpLt, "16")))},
		{name: "Lt equal", pod: pod("p", requiredNodeTerms(expr("cores", api.NodeSelectorOpLt, "8"))), want: miss},
		{name: "Lt on a missing key", pod: pod("p", requiredNodeTerms(expr("gpus", api.NodeSelectorOpLt, "4"))), want: miss},
		{name: "matchFields In own name", pod: pod("p", requiredNodeTerms(field(api.SelectorOpIn, "n1")))},
		{name: "matchFields In another name", pod: pod("p", requiredNodeTerms(field(api.SelectorOpIn, "n2"))), want: miss},
		{name: "matchFields NotIn own name", pod: pod("p", requiredNodeTerms(field(api.SelectorOpNotIn, "n1"))), want: miss},
		{name: "terms are ORed", pod: pod("p", requiredNodeTerms(expr("disk", api.SelectorOpIn, "hdd"), expr("disk", api.SelectorOpIn, "ssd")))},
		{name: "requirements in a term are ANDed", pod: pod("p", requiredNodeTerms(both)), want: miss},
		{name: "nodeSelector and affinity must both match", pod: pod("p", nodeSelector("disk", "ssd"),
			requiredNodeTerms(expr("disk", api.SelectorOpIn, "hdd"))), want: miss},
		{name: "empty term matches nothing", pod: pod("p", requiredNodeTerms(api.NodeSelectorTerm{})), want: miss},
	}
	for i := range cases {
		cases[i].nodes = labelled
	}
	// A pod without constraints skips this filter in the pipeline; on its
	// own it would dereference a nil affinity, so give it one that passes.
	cases[0].pod = pod("p", requiredNodeTerms(expr("disk", api.SelectorOpExists)))
	runFilterCases(t, nodeAffinityFilter{}, cases)
}

func TestResourceFitFilter(t *testing.T) {
	small := one(node("n1", capacity("2", "4Gi", "2")))
	runFilterCases(t, resourceFitFilter{}, []filterCase{
		{name: "fits", nodes: small, pod: pod("p", req("1", "1Gi"))},
		{name: "fits exactly", nodes: small, existing: []*api.Pod{pod("a", req("1", "2Gi"), onNode("n1"))}, pod: pod("p", req("1", "2Gi"))},
		{name: "insufficient cpu", nodes: small, pod: pod("p", req("2500m", "1Gi")), want: []Reason{ReasonInsufficientCPU}},
		{name: "insufficient memory", nodes: small, pod: pod("p", req("1", "5Gi")), want: []Reason{ReasonInsufficientMemory}},
		{name: "short of both counts both", nodes: small, pod: pod("p", req("3", "5Gi")),
			want: []Reason{ReasonInsufficientCPU, ReasonInsufficientMemory}},
		{name: "existing pods count", nodes: small, existing: []*api.Pod{pod("a", req("1500m", "1Gi"), onNode("n1"))},
			pod: pod("p", req("1", "1Gi")), want: []Reason{ReasonInsufficientCPU}},
		{name: "finished pods do not count", nodes: small,
			existing: []*api.Pod{pod("a", req("2", "4Gi"), onNode("n1"), phase(api.PodSucceeded)), pod("b", req("2", "4Gi"), onNode("n1"), phase(api.PodFailed))},
			pod:      pod("p", req("1", "1Gi"))},
		{name: "too many pods", nodes: small, existing: []*api.Pod{pod("a", onNode("n1")), pod("b", onNode("n1"))},
			pod: pod("p"), want: []Reason{ReasonTooManyPods}},
		{name: "all three", nodes: small, existing: []*api.Pod{pod("a", req("2", "4Gi"), onNode("n1")), pod("b", onNode("n1"))},
			pod: pod("p", req("1", "1Gi")), want: []Reason{ReasonInsufficientCPU, ReasonInsufficientMemory, ReasonTooManyPods}},
		{name: "no requests fit a full node", nodes: small, existing: []*api.Pod{pod("a", req("2", "4Gi"), onNode("n1"))}, pod: pod("p")},
	})
}

func TestHostPortFilter(t *testing.T) {
	nodes := one(node("n1"))
	used := []*api.Pod{pod("a", onNode("n1"), hostPort(8080, api.ProtocolTCP, ""), hostPort(9000, api.ProtocolTCP, "10.0.0.1"))}
	hostNet := func(p *api.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 8080, Protocol: api.ProtocolTCP}}
	}
	runFilterCases(t, hostPortFilter{}, []filterCase{
		{name: "free port", nodes: nodes, existing: used, pod: pod("p", hostPort(8081, api.ProtocolTCP, ""))},
		{name: "same port and protocol", nodes: nodes, existing: used, pod: pod("p", hostPort(8080, api.ProtocolTCP, "")), want: []Reason{ReasonHostPorts}},
		{name: "same port, other protocol", nodes: nodes, existing: used, pod: pod("p", hostPort(8080, api.ProtocolUDP, ""))},
		{name: "wildcard against a specific address", nodes: nodes, existing: used, pod: pod("p", hostPort(9000, api.ProtocolTCP, "")), want: []Reason{ReasonHostPorts}},
		{name: "specific against the wildcard", nodes: nodes, existing: used, pod: pod("p", hostPort(8080, api.ProtocolTCP, "10.0.0.2")), want: []Reason{ReasonHostPorts}},
		{name: "0.0.0.0 is the wildcard", nodes: nodes, existing: used, pod: pod("p", hostPort(9000, api.ProtocolTCP, "0.0.0.0")), want: []Reason{ReasonHostPorts}},
		{name: "two specific addresses", nodes: nodes, existing: used, pod: pod("p", hostPort(9000, api.ProtocolTCP, "10.0.0.2"))},
		{name: "host network uses container ports", nodes: nodes, existing: used, pod: pod("p", hostNet), want: []Reason{ReasonHostPorts}},
		{name: "freed when the pod finishes", nodes: nodes,
			existing: []*api.Pod{pod("a", onNode("n1"), hostPort(8080, api.ProtocolTCP, ""), phase(api.PodSucceeded))},
			pod:      pod("p", hostPort(8080, api.ProtocolTCP, ""))},
	})
}

func TestPodAffinityFilter(t *testing.T) {
	nodes := []*api.Node{
		node("n1", zone("z1")), node("n2", zone("z2")), node("n3", zone("z1")),
		node("bare"), // no zone label
	}
	db := pod("db", podLabels("app", "db"), onNode("n1"))
	affine := []Reason{ReasonPodAffinity}
	anti := []Reason{ReasonPodAntiAffinity}
	cases := []filterCase{
		{name: "affinity: same zone as a match", existing: []*api.Pod{db}, node: "n3",
			pod: pod("p", requiredAffinity(term(api.LabelZone, "app", "db")))},
		{name: "affinity: zone without a match", existing: []*api.Pod{db}, node: "n2",
			pod: pod("p", requiredAffinity(term(api.LabelZone, "app", "db"))), want: affine},
		{name: "affinity: node without the key", existing: []*api.Pod{db}, node: "bare",
			pod: pod("p", requiredAffinity(term(api.LabelZone, "app", "db"))), want: affine},
		{name: "affinity: first of a group that matches itself", node: "n2",
			pod: pod("p", podLabels("app", "db"), requiredAffinity(term(api.LabelZone, "app", "db")))},
		{name: "affinity: nothing matches and not itself", node: "n2",
			pod: pod("p", requiredAffinity(term(api.LabelZone, "app", "db"))), want: affine},
		{name: "affinity: match in another namespace does not count", node: "n1",
			existing: []*api.Pod{pod("db", podLabels("app", "db"), onNode("n1"), inNamespace("data"))},
			pod:      pod("p", requiredAffinity(term(api.LabelZone, "app", "db"))), want: affine},
		{name: "affinity: term naming the namespace", node: "n1",
			existing: []*api.Pod{pod("db", podLabels("app", "db"), onNode("n1"), inNamespace("data"))},
			pod: pod("p", requiredAffinity(func() api.PodAffinityTerm {
				tm := term(api.LabelZone, "app", "db")
				tm.Namespaces = []string{"data"}
				return tm
			}()))},
		{name: "anti-affinity: same host", existing: []*api.Pod{db}, node: "n1",
			pod: pod("p", requiredAntiAffinity(term(api.LabelHostname, "app", "db"))), want: anti},
		{name: "anti-affinity: other host", existing: []*api.Pod{db}, node: "n3",
			pod: pod("p", requiredAntiAffinity(term(api.LabelHostname, "app", "db")))},
		{name: "anti-affinity: same zone, other host", existing: []*api.Pod{db}, node: "n3",
			pod: pod("p", requiredAntiAffinity(term(api.LabelZone, "app", "db"))), want: anti},
		{name: "anti-affinity: node without the key", existing: []*api.Pod{db}, node: "bare",
			pod: pod("p", requiredAntiAffinity(term(api.LabelZone, "app", "db")))},
		{name: "symmetric: an existing pod refuses to share its host", node: "n1",
			existing: []*api.Pod{pod("lonely", onNode("n1"), requiredAntiAffinity(term(api.LabelHostname, "app", "web")))},
			pod:      pod("p", podLabels("app", "web")), want: anti},
		{name: "symmetric: its zone", node: "n3",
			existing: []*api.Pod{pod("lonely", onNode("n1"), requiredAntiAffinity(term(api.LabelZone, "app", "web")))},
			pod:      pod("p", podLabels("app", "web")), want: anti},
		{name: "symmetric: other zones are fine", node: "n2",
			existing: []*api.Pod{pod("lonely", onNode("n1"), requiredAntiAffinity(term(api.LabelZone, "app", "web")))},
			pod:      pod("p", podLabels("app", "web"))},
		{name: "symmetric: pods it does not select are fine", node: "n1",
			existing: []*api.Pod{pod("lonely", onNode("n1"), requiredAntiAffinity(term(api.LabelHostname, "app", "web")))},
			pod:      pod("p", podLabels("app", "api"))},
		{name: "symmetric: finished pods repel nobody", node: "n1",
			existing: []*api.Pod{pod("lonely", onNode("n1"), phase(api.PodSucceeded), requiredAntiAffinity(term(api.LabelHostname, "app", "web")))},
			pod:      pod("p", podLabels("app", "web"))},
	}
	for i := range cases {
		cases[i].nodes = nodes
	}
	runFilterCases(t, podAffinityFilter{}, cases)
}

func TestTopologySpreadFilter(t *testing.T) {
	nodes := []*api.Node{
		node("a1", zone("z1"), nodeLabel("disk", "ssd")), node("a2", zone("z1"), nodeLabel("disk", "ssd")),
		node("b1", zone("z2"), nodeLabel("disk", "ssd")),
		node("c1", zone("z3")),
		node("bare"),
	}
	web := func(name, on string) *api.Pod { return pod(name, podLabels("app", "web"), onNode(on)) }
	existing := []*api.Pod{web("w1", "a1"), web("w2", "a2"), web("w3", "b1"), web("w4", "c1")} // z1:2 z2:1 z3:1
	spreadWeb := spread(1, api.LabelZone, api.DoNotSchedule, "app", "web")
	skew := []Reason{ReasonTopologySpread}
	cases := []filterCase{
		{name: "fullest zone exceeds the skew", node: "a1", pod: pod("p", podLabels("app", "web"), spreadWeb), want: skew},
		{name: "emptiest zone", node: "b1", pod: pod("p", podLabels("app", "web"), spreadWeb)},
		{name: "node without the key", node: "bare", pod: pod("p", podLabels("app", "web"), spreadWeb), want: skew},
		{name: "a pod outside the selector adds nothing", node: "a1", pod: pod("p", podLabels("app", "other"), spreadWeb)},
		{name: "larger maxSkew", node: "a1", pod: pod("p", podLabels("app", "web"), spread(2, api.LabelZone, api.DoNotSchedule, "app", "web"))},
		{name: "ScheduleAnyway does not filter", node: "a1", pod: pod("p", podLabels("app", "web"), spread(1, api.LabelZone, api.ScheduleAnyway, "app", "web"))},
		// With a node selector, z3 (no ssd) is not an eligible domain, so
		// the minimum is z2's 1 and z1 at 2 is within skew... until the
		// pod itself is added: 2+1-1 = 2 > 1.
		{name: "selector: z1 still too full", node: "a1", pod: pod("p", podLabels("app", "web"), nodeSelector("disk", "ssd"), spreadWeb), want: skew},
		{name: "selector: z2 fits", node: "b1", pod: pod("p", podLabels("app", "web"), nodeSelector("disk", "ssd"), spreadWeb)},
	}
	for i := range cases {
		cases[i].nodes = nodes
		cases[i].existing = existing
	}
	// Ignoring nodes that fail the selector matters when they hold the
	// emptiest domain: z3 has no pods here, which without the selector
	// caps every other zone at 1.
	sparse := []*api.Pod{web("w1", "a1"), web("w3", "b1")} // z1:1 z2:1 z3:0
	cases = append(cases,
		filterCase{name: "empty z3 caps z1", nodes: nodes, existing: sparse, node: "a1",
			pod: pod("p", podLabels("app", "web"), spreadWeb), want: skew},
		filterCase{name: "empty z3 is ignored when the selector excludes it", nodes: nodes, existing: sparse, node: "a1",
			pod: pod("p", podLabels("app", "web"), nodeSelector("disk", "ssd"), spreadWeb)},
	)
	runFilterCases(t, topologySpreadFilter{}, cases)
}
