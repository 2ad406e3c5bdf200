package metrics

import (
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

func usageList(cpu, mem string) api.ResourceList {
	return api.ResourceList{api.ResourceCPU: resource.MustParse(cpu), api.ResourceMemory: resource.MustParse(mem)}
}

func report(node string, pods ...api.PodUsage) *api.NodeMetricsReport {
	return &api.NodeMetricsReport{Node: node, Timestamp: time.Unix(1000, 0), WindowSeconds: 10, Usage: usageList("1", "1Gi"), Pods: pods}
}

func pod(ns, name, cpu string) api.PodUsage {
	return api.PodUsage{Namespace: ns, Name: name, UID: name + "-uid",
		Containers: []api.ContainerMetrics{{Name: "app", Usage: usageList(cpu, "64Mi")}}}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestStore() (*Store, *clock) {
	c := &clock{t: time.Unix(1000, 0)}
	s := NewStore(10 * time.Second)
	s.now = c.now
	return s, c
}

func podNames(us []PodUsage) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Node+":"+u.Metrics.Key()+"="+u.Metrics.Containers[0].Usage[api.ResourceCPU].String())
	}
	return out
}

func TestStore(t *testing.T) {
	type step struct {
		advance time.Duration
		report  *api.NodeMetricsReport
		forget  string
		expire  bool
	}
	cases := []struct {
		name      string
		steps     []step
		namespace string
		wantPods  []string
		wantNodes []string
	}{
		{
			name:      "reports of two nodes",
			steps:     []step{{report: report("n1", pod("a", "p1", "100m"))}, {report: report("n2", pod("a", "p2", "200m"), pod("b", "p3", "1"))}},
			wantPods:  []string{"n1:a/p1=100m", "n2:a/p2=200m", "n2:b/p3=1"},
			wantNodes: []string{"n1", "n2"},
		},
		{
			name:      "namespace filter",
			steps:     []step{{report: report("n1", pod("a", "p1", "100m"), pod("b", "p3", "1"))}},
			namespace: "b",
			wantPods:  []string{"n1:b/p3=1"},
			wantNodes: []string{"n1"},
		},
		{
			name: "a report replaces the node's previous one",
			steps: []step{
				{report: report("n1", pod("a", "p1", "100m"), pod("a", "gone", "5"))},
				{advance: 10 * time.Second, report: report("n1", pod("a", "p1", "300m"))},
			},
			wantPods:  []string{"n1:a/p1=300m"},
			wantNodes: []string{"n1"},
		},
		{
			name: "a pod that moved is served from the latest report",
			steps: []step{
				{report: report("n1", pod("a", "p1", "100m"))},
				{report: report("n2", pod("a", "p1", "200m"))},
				{advance: time.Second, report: report("n1")},
			},
			wantPods:  []string{"n2:a/p1=200m"},
			wantNodes: []string{"n1", "n2"},
		},
		{
			name: "silent for three intervals: hidden before the sweep, then forgotten",
			steps: []step{
				{report: report("n1", pod("a", "p1", "100m"))},
				{advance: 20 * time.Second, report: report("n2", pod("a", "p2", "200m"))},
				{advance: 11 * time.Second},
			},
			wantPods:  []string{"n2:a/p2=200m"},
			wantNodes: []string{"n2"},
		},
		{
			name: "silent for three intervals: expired",
			steps: []step{
				{report: report("n1", pod("a", "p1", "100m"))},
				{advance: 20 * time.Second, report: report("n2", pod("a", "p2", "200m"))},
				{advance: 11 * time.Second, expire: true},
			},
			wantPods:  []string{"n2:a/p2=200m"},
			wantNodes: []string{"n2"},
		},
		{
			name: "two silent intervals are tolerated",
			steps: []step{
				{report: report("n1", pod("a", "p1", "100m"))},
				{advance: 29 * time.Second, expire: true},
			},
			wantPods:  []string{"n1:a/p1=100m"},
			wantNodes: []string{"n1"},
		},
		{
			name:      "a deleted node is forgotten",
			steps:     []step{{report: report("n1", pod("a", "p1", "100m"))}, {report: report("n2")}, {forget: "n1"}},
			wantNodes: []string{"n2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newTestStore()
			for _, st := range tc.steps {
				c.t = c.t.Add(st.advance)
				if st.report != nil {
					s.Report(st.report)
				}
				if st.forget != "" {
					s.Forget(st.forget)
				}
				if st.expire {
					s.Expire()
				}
			}
			if got := podNames(s.Pods(tc.namespace)); !slices.Equal(got, tc.wantPods) {
				t.Errorf("pods = %v, want %v", got, tc.wantPods)
			}
			var nodes []string
			for _, n := range s.Nodes() {
				nodes = append(nodes, n.Name)
			}
			if !slices.Equal(nodes, tc.wantNodes) {
				t.Errorf("nodes = %v, want %v", nodes, tc.wantNodes)
			}
			for _, u := range s.Pods(tc.namespace) {
				if got, ok := s.Pod(u.Metrics.Namespace, u.Metrics.Name); !ok || got.Node != u.Node {
					t.Errorf("Pod(%s) = %v, %v; want the listed one from %s", u.Metrics.Key(), got.Node, ok, u.Node)
				}
			}
		})
	}
}

func TestStoreExpiryReleasesIndex(t *testing.T) {
	s, c := newTestStore()
	s.Report(report("n1", pod("a", "p1", "100m")))
	c.t = c.t.Add(31 * time.Second)
	if n := s.Expire(); n != 1 {
		t.Fatalf("Expire() = %d, want 1", n)
	}
	if nodes, pods := s.Len(); nodes != 0 || pods != 0 {
		t.Errorf("after expiry the store holds %d nodes and %d pods, want none", nodes, pods)
	}
}

func TestStoreServesUsage(t *testing.T) {
	s, _ := newTestStore()
	s.Report(report("n1", pod("a", "p1", "250m")))
	n, ok := s.Node("n1")
	if !ok {
		t.Fatal("node n1 not found")
	}
	if cpu, mem := n.Usage[api.ResourceCPU], n.Usage[api.ResourceMemory]; cpu.String() != "1" || mem.String() != "1Gi" {
		t.Errorf("node usage = cpu %s memory %s, want 1 and 1Gi", cpu.String(), mem.String())
	}
	if n.WindowSeconds != 10 || !n.Timestamp.Equal(time.Unix(1000, 0)) || n.Kind != api.KindNodeMetrics {
		t.Errorf("node metrics = %+v", n)
	}
	p, ok := s.Pod("a", "p1")
	if !ok {
		t.Fatal("pod a/p1 not found")
	}
	c := p.Metrics.Containers[0]
	if cpu, mem := c.Usage[api.ResourceCPU], c.Usage[api.ResourceMemory]; c.Name != "app" || cpu.String() != "250m" || mem.String() != "64Mi" {
		t.Errorf("container = %s cpu %s memory %s, want app 250m 64Mi", c.Name, cpu.String(), mem.String())
	}
	if p.UID != "p1-uid" || p.Node != "n1" {
		t.Errorf("pod usage from %s uid %s, want n1 p1-uid", p.Node, p.UID)
	}
}

func TestReportsSweepSilentNodes(t *testing.T) {
	s, c := newTestStore()
	s.Report(report("silent", pod("a", "p1", "100m")))
	for range 4 {
		c.t = c.t.Add(10 * time.Second)
		s.Report(report("n2"))
	}
	if nodes, pods := s.Len(); nodes != 1 || pods != 0 {
		t.Errorf("after 4 intervals of another node's reports the store holds %d nodes and %d pods, want the reporting node alone", nodes, pods)
	}
}
