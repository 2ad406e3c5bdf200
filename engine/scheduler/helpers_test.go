package scheduler

import (
	"fmt"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Builders for test nodes and pods. Options are plain functions so a case
// reads as a sentence: pod("web", req("500m", "1Gi"), onNode("n1")).

type nodeOpt func(*api.Node)

func node(name string, opts ...nodeOpt) *api.Node {
	n := &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{api.LabelHostname: name}},
		Status: api.NodeStatus{
			Allocatable: api.ResourceList{
				api.ResourceCPU:    resource.MustParse("4"),
				api.ResourceMemory: resource.MustParse("32Gi"),
				api.ResourcePods:   resource.MustParse("110"),
			},
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func zone(z string) nodeOpt { return nodeLabel(api.LabelZone, z) }

func nodeLabel(k, v string) nodeOpt {
	return func(n *api.Node) { n.Labels[k] = v }
}

func capacity(cpu, mem, pods string) nodeOpt {
	return func(n *api.Node) {
		n.Status.Allocatable = api.ResourceList{
			api.ResourceCPU:    resource.MustParse(cpu),
			api.ResourceMemory: resource.MustParse(mem),
			api.ResourcePods:   resource.MustParse(pods),
		}
	}
}

func taint(key, value string, effect api.TaintEffect) nodeOpt {
	return func(n *api.Node) {
		n.Spec.Taints = append(n.Spec.Taints, api.Taint{Key: key, Value: value, Effect: effect})
	}
}

func cordoned() nodeOpt { return func(n *api.Node) { n.Spec.Unschedulable = true } }

func notReady() nodeOpt {
	return func(n *api.Node) { n.Status.Conditions[0].Status = api.ConditionFalse }
}

type podOpt func(*api.Pod)

func pod(name string, opts ...podOpt) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "app", Image: "app:1"}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func req(cpu, mem string) podOpt {
	return func(p *api.Pod) {
		r := api.ResourceList{}
		if cpu != "" {
			r[api.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			r[api.ResourceMemory] = resource.MustParse(mem)
		}
		p.Spec.Containers[0].Resources.Requests = r
	}
}

func podLabels(kv ...string) podOpt {
	return func(p *api.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func inNamespace(ns string) podOpt { return func(p *api.Pod) { p.Namespace = ns } }

func onNode(n string) podOpt { return func(p *api.Pod) { p.Spec.NodeName = n } }

func phase(ph api.PodPhase) podOpt { return func(p *api.Pod) { p.Status.Phase = ph } }

func nodeSelector(kv ...string) podOpt {
	return func(p *api.Pod) {
		p.Spec.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func requiredNodeTerms(terms ...api.NodeSelectorTerm) podOpt {
	return func(p *api.Pod) {
		affinity(p).NodeAffinity = &api.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{NodeSelectorTerms: terms},
		}
	}
}

func preferredNodeTerm(weight int32, term api.NodeSelectorTerm) podOpt {
	return func(p *api.Pod) {
		a := affinity(p)
		if a.NodeAffinity == nil {
			a.NodeAffinity = &api.NodeAffinity{}
		}
		a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(
			a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			api.PreferredSchedulingTerm{Weight: weight, Preference: term})
	}
}

func expr(key, op string, values ...string) api.NodeSelectorTerm {
	return api.NodeSelectorTerm{MatchExpressions: []api.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func affinity(p *api.Pod) *api.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &api.Affinity{}
	}
	return p.Spec.Affinity
}

func term(topologyKey string, matchLabels ...string) api.PodAffinityTerm {
	ml := map[string]string{}
	for i := 0; i+1 < len(matchLabels); i += 2 {
		ml[matchLabels[i]] = matchLabels[i+1]
	}
	return api.PodAffinityTerm{LabelSelector: &api.LabelSelector{MatchLabels: ml}, TopologyKey: topologyKey}
}

func requiredAffinity(t api.PodAffinityTerm) podOpt {
	return func(p *api.Pod) {
		a := affinity(p)
		if a.PodAffinity == nil {
			a.PodAffinity = &api.PodAffinity{}
		}
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	}
}

func requiredAntiAffinity(t api.PodAffinityTerm) podOpt {
	return func(p *api.Pod) {
		a := affinity(p)
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &api.PodAntiAffinity{}
		}
		a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	}
}

func preferredAffinity(weight int32, t api.PodAffinityTerm) podOpt {
	return func(p *api.Pod) {
		a := affinity(p)
		if a.PodAffinity == nil {
			a.PodAffinity = &api.PodAffinity{}
		}
		a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			api.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	}
}

func preferredAntiAffinity(weight int32, t api.PodAffinityTerm) podOpt {
	return func(p *api.Pod) {
		a := affinity(p)
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &api.PodAntiAffinity{}
		}
		a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			api.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	}
}

func spread(maxSkew int32, key, when string, matchLabels ...string) podOpt {
	return func(p *api.Pod) {
		ml := map[string]string{}
		for i := 0; i+1 < len(matchLabels); i += 2 {
			ml[matchLabels[i]] = matchLabels[i+1]
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, api.TopologySpreadConstraint{
			MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: when, LabelSelector: &api.LabelSelector{MatchLabels: ml},
		})
	}
}

func toleration(key, op, value string, effect api.TaintEffect) podOpt {
	return func(p *api.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, api.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

func hostPort(port int32, proto api.Protocol, ip string) podOpt {
	return func(p *api.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = append(c.Ports, api.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIP: ip})
	}
}

func ownedBy(uid string) podOpt {
	return func(p *api.Pod) {
		p.OwnerReferences = []api.OwnerReference{{Kind: "ReplicaSet", Name: "rs-" + uid, UID: uid, Controller: api.Ptr(true)}}
	}
}

func priority(v int32) podOpt { return func(p *api.Pod) { p.Spec.Priority = api.Ptr(v) } }

// mustPodInfo builds a PodInfo or fails the test.
func mustPodInfo(t testing.TB, p *api.Pod) *PodInfo {
	t.Helper()
	pi, err := NewPodInfo(p)
	if err != nil {
		t.Fatalf("NewPodInfo: %v", err)
	}
	return pi
}

// zonedNodes returns n nodes named n0.. spread round robin over zones.
func zonedNodes(n int, zones []string, opts ...nodeOpt) []*api.Node {
	out := make([]*api.Node, n)
	for i := range out {
		out[i] = node(fmt.Sprintf("n%d", i), append([]nodeOpt{zone(zones[i%len(zones)])}, opts...)...)
	}
	return out
}

// newTestPipeline returns a pipeline with a fixed seed.
func newTestPipeline(t testing.TB, cfg PipelineConfig) *Pipeline {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	p, err := NewPipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
