package clusterautoscaler

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// node is a Ready node of pool ("" none) with cpu cores and memory GiB.
func node(name, pool string, cpu, memGi int) *api.Node {
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if pool != "" {
		n.Labels[api.LabelNodePool] = pool
	}
	n.Status.Capacity = api.ResourceList{api.ResourceCPU: resource.MustParse(fmt.Sprint(cpu)),
		api.ResourceMemory: resource.MustParse(fmt.Sprintf("%dGi", memGi))}
	n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}}
	return n
}

// pod requests cpu millicores and memory MiB, bound to node ("" pending),
// owned by a ReplicaSet.
func pod(name string, milli, memMi int, on string) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name,
		OwnerReferences: []api.OwnerReference{{Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: api.Ptr(true)}}}}
	p.Spec.NodeName = on
	p.Spec.Containers = []api.Container{{Name: "c", Image: "demo", Resources: api.ResourceRequirements{Requests: api.ResourceList{
		api.ResourceCPU: resource.MustParse(fmt.Sprintf("%dm", milli)), api.ResourceMemory: resource.MustParse(fmt.Sprintf("%dMi", memMi))}}}}
	return p
}

func pods(prefix string, n, milli, memMi int) []*api.Pod {
	var out []*api.Pod
	for i := range n {
		out = append(out, pod(fmt.Sprintf("%s%d", prefix, i), milli, memMi, ""))
	}
	return out
}

// pool is an autoscaling pool of nodes with cpu cores and memory GiB.
func pool(name string, minSize, maxSize, size, nodes, cpu, memGi int, mut ...func(*api.NodePool)) PoolState {
	p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodePoolSpec{Provider: api.ProviderLocal,
		MinSize: int32(minSize), MaxSize: int32(maxSize), Size: api.Ptr(int32(size)), Autoscaling: true}}
	for _, m := range mut {
		m(p)
	}
	tmpl, err := TemplateNode(p, "t", node("like", name, cpu, memGi))
	if err != nil {
		panic(err)
	}
	return PoolState{Pool: p, Template: tmpl, Size: size, Nodes: nodes}
}

func TestPlanScaleUp(t *testing.T) {
	gpuTaint := api.Taint{Key: "gpu", Value: "true", Effect: api.TaintNoSchedule}
	selectorPod := pod("picky", 100, 100, "")
	selectorPod.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	cases := []struct {
		name      string
		in        ScaleUpInput
		wantPool  string
		wantNodes int
		wantPods  int
		waiting   map[string]string
		noScaleUp map[string]string // pod -> substring of the reason
		never     []string
	}{
		{name: "nothing pending: nothing to do",
			in: ScaleUpInput{Pools: []PoolState{pool("web", 1, 4, 1, 1, 4, 16)}}},
		{name: "bin-packs pending pods onto as few nodes as hold them",
			in:       ScaleUpInput{Pending: pods("p", 5, 1500, 1024), Pools: []PoolState{pool("web", 1, 10, 1, 1, 4, 16)}},
			wantPool: "web", wantNodes: 3, wantPods: 5}, // 2 per 4-core node
		{name: "least waste: small pods go to the small pool",
			in: ScaleUpInput{Pending: pods("p", 2, 900, 1024), Pools: []PoolState{
				pool("big", 0, 10, 0, 0, 16, 64), pool("small", 0, 10, 0, 0, 2, 4)}},
			wantPool: "small", wantNodes: 1, wantPods: 2},
		{name: "least waste: a big pod goes to the big pool it fills best",
			in: ScaleUpInput{Pending: []*api.Pod{pod("p", 7000, 28000, "")}, Pools: []PoolState{
				pool("huge", 0, 10, 0, 0, 32, 128), pool("big", 0, 10, 0, 0, 8, 32), pool("small", 0, 10, 0, 0, 2, 4)}},
			wantPool: "big", wantNodes: 1, wantPods: 1,
		},
		{name: "never above max: the pool adds only its room",
			in:       ScaleUpInput{Pending: pods("p", 6, 3000, 1024), Pools: []PoolState{pool("web", 1, 4, 2, 2, 4, 16)}},
			wantPool: "web", wantNodes: 2, wantPods: 2,
			noScaleUp: map[string]string{"default/p2": "maximum size 4", "default/p3": "would not hold it",
				"default/p4": "would not hold it", "default/p5": "would not hold it"}},
		{name: "a pool at max: no scale-up, said so, not never",
			in:        ScaleUpInput{Pending: pods("p", 1, 3000, 1024), Pools: []PoolState{pool("web", 1, 2, 2, 2, 4, 16)}},
			noScaleUp: map[string]string{"default/p0": "node pool web is at its maximum size 2"}},
		{name: "pool at 0 scales up from its template",
			in:       ScaleUpInput{Pending: pods("p", 1, 500, 512), Pools: []PoolState{pool("web", 0, 3, 0, 0, 2, 4)}},
			wantPool: "web", wantNodes: 1, wantPods: 1},
		{name: "a pod too big for every template never fits",
			in: ScaleUpInput{Pending: []*api.Pod{pod("huge", 64000, 1024, ""), pod("ok", 1000, 1024, "")},
				Pools: []PoolState{pool("a", 0, 3, 0, 0, 4, 16), pool("b", 0, 3, 0, 0, 8, 16)}},
			wantPool: "a", wantNodes: 1, wantPods: 1,
			noScaleUp: map[string]string{"default/huge": "node pool a: a new node would not fit it (insufficient cpu)"},
			never:     []string{"default/huge"}},
		{name: "a pod matching no pool's labels never fits",
			in:        ScaleUpInput{Pending: []*api.Pod{selectorPod}, Pools: []PoolState{pool("web", 0, 3, 0, 0, 4, 16)}},
			noScaleUp: map[string]string{"default/picky": "didn't match Pod's node affinity/selector"}, never: []string{"default/picky"}},
		{name: "a pool's taints keep pods that do not tolerate them off its template",
			in: ScaleUpInput{Pending: pods("p", 1, 100, 100), Pools: []PoolState{
				pool("gpu", 0, 3, 0, 0, 4, 16, func(p *api.NodePool) { p.Spec.Taints = []api.Taint{gpuTaint} }),
				pool("web", 0, 3, 0, 0, 32, 128)}},
			wantPool: "web", wantNodes: 1, wantPods: 1},
		{name: "a pool's labels let a pod with a selector scale it from 0",
			in: ScaleUpInput{Pending: []*api.Pod{selectorPod}, Pools: []PoolState{
				pool("ssd", 0, 3, 0, 0, 32, 128, func(p *api.NodePool) { p.Spec.Labels = map[string]string{"disk": "ssd"} }),
				pool("web", 0, 3, 0, 0, 2, 4)}},
			wantPool: "ssd", wantNodes: 1, wantPods: 1},
		{name: "machines being created count: no second scale-up for the same pods",
			in:      ScaleUpInput{Pending: pods("p", 2, 1500, 1024), Pools: []PoolState{pool("web", 1, 4, 2, 1, 4, 16)}},
			waiting: map[string]string{"default/p0": "web", "default/p1": "web"}},
		{name: "pods beyond what the coming machines hold scale up again",
			in:       ScaleUpInput{Pending: pods("p", 4, 1500, 1024), Pools: []PoolState{pool("web", 1, 4, 2, 1, 4, 16)}},
			wantPool: "web", wantNodes: 1, wantPods: 2,
			waiting: map[string]string{"default/p0": "web", "default/p1": "web"}},
		{name: "pods that fit a registered node wait for the scheduler",
			in: ScaleUpInput{Nodes: []*api.Node{node("n1", "web", 4, 16)}, Pending: pods("p", 1, 1000, 1024),
				Pools: []PoolState{pool("web", 1, 4, 1, 1, 4, 16)}}},
		{name: "no autoscaling pool: said so",
			in:        ScaleUpInput{Pending: pods("p", 1, 1000, 1024)},
			noScaleUp: map[string]string{"default/p0": "no node pool has autoscaling"}, never: []string{"default/p0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanScaleUp(tc.in)
			if got.Chosen.Pool != tc.wantPool || got.Chosen.Nodes != tc.wantNodes || len(got.Chosen.Pods) != tc.wantPods {
				t.Errorf("chosen %+v, want pool %q +%d nodes for %d pods; options %+v", got.Chosen, tc.wantPool, tc.wantNodes, tc.wantPods, got.Options)
			}
			if tc.waiting == nil {
				tc.waiting = map[string]string{}
			}
			if !maps.Equal(got.Waiting, tc.waiting) {
				t.Errorf("waiting %v, want %v", got.Waiting, tc.waiting)
			}
			if len(got.NoScaleUp) != len(tc.noScaleUp) {
				t.Errorf("no scale-up %v, want %v", got.NoScaleUp, tc.noScaleUp)
			}
			for k, want := range tc.noScaleUp {
				if !strings.Contains(got.NoScaleUp[k], want) {
					t.Errorf("no scale-up for %s: %q, want it to say %q", k, got.NoScaleUp[k], want)
				}
			}
			never := slices.Sorted(maps.Keys(got.Never))
			if !slices.Equal(never, tc.never) {
				t.Errorf("never %v, want %v", never, tc.never)
			}
		})
	}
}

func TestTemplateNode(t *testing.T) {
	p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "web", Annotations: map[string]string{api.AnnotationTemplateCapacity: "cpu=8,memory=32Gi"}},
		Spec: api.NodePoolSpec{Zones: []string{"z1", "z2"}, MachineType: "m5.large", Labels: map[string]string{"tier": "web"},
			Taints: []api.Taint{{Key: "k", Effect: api.TaintNoSchedule}}}}
	cases := []struct {
		name     string
		like     *api.Node
		cpu, mem int64
	}{
		{"like an existing node of the pool", node("n", "web", 3, 6), 3000, 6 << 30},
		{"from the annotation", nil, 8000, 32 << 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := TemplateNode(p, "t", tc.like)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"tier": "web", api.LabelNodePool: "web", api.LabelZone: "z1", api.LabelInstanceType: "m5.large"}
			cpu, mem := allocatable(n)
			if !maps.Equal(n.Labels, want) || len(n.Spec.Taints) != 1 || !api.IsNodeReady(n) || cpu != tc.cpu || mem != tc.mem {
				t.Errorf("template %+v; want labels %v, the pool's taint, Ready, cpu %d, memory %d (got %d, %d)", n, want, tc.cpu, tc.mem, cpu, mem)
			}
		})
	}
	bare := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "p"}}
	n, _ := TemplateNode(bare, "t", nil)
	if cpu, mem := allocatable(n); cpu != 2000 || mem != 8<<30 {
		t.Errorf("default template capacity: cpu %d, memory %d; want 2 cores, 8 GiB", cpu, mem)
	}
	bad := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "p", Annotations: map[string]string{api.AnnotationTemplateCapacity: "gpu=1"}}}
	if _, err := TemplateNode(bad, "t", nil); err == nil || !strings.Contains(err.Error(), "gpu=1") {
		t.Errorf("bad capacity annotation: %v, want an error naming it", err)
	}
}

func TestBatch(t *testing.T) {
	type step struct {
		at    time.Duration
		pod   string // observed at `at`, "" none
		ready bool
		wait  time.Duration
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"empty: never due", []step{{at: time.Hour}}},
		{"due after 1 s of quiet", []step{{pod: "a", wait: time.Second}, {at: 500 * time.Millisecond, wait: 500 * time.Millisecond}, {at: time.Second, ready: true}}},
		{"a new pod restarts the quiet second", []step{{pod: "a", wait: time.Second}, {at: 800 * time.Millisecond, pod: "b", wait: time.Second},
			{at: 1500 * time.Millisecond, wait: 300 * time.Millisecond}, {at: 1800 * time.Millisecond, ready: true}}},
		{"a pod seen before does not", []step{{pod: "a", wait: time.Second}, {at: 800 * time.Millisecond, pod: "a", wait: 200 * time.Millisecond}}},
		{"due 10 s after the first whatever comes", []step{{pod: "p0", wait: time.Second}, {at: 9500 * time.Millisecond, pod: "p9", wait: 500 * time.Millisecond},
			{at: 10 * time.Second, ready: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := Batch{Quiet: time.Second, Max: 10 * time.Second}
			for _, s := range tc.steps {
				now := t0.Add(s.at)
				if s.pod != "" {
					b.Observe(s.pod, now)
				}
				if ready, wait := b.Ready(now); ready != s.ready || wait != s.wait {
					t.Errorf("at %s: ready %v wait %s, want %v %s", s.at, ready, wait, s.ready, s.wait)
				}
			}
		})
	}
}

func TestPlanScaleDown(t *testing.T) {
	bare := pod("bare", 100, 100, "w2")
	bare.OwnerReferences = nil
	busy := func(n string) *api.Pod { return pod("busy-"+n, 3000, 1024, n) }
	cases := []struct {
		name       string
		nodes      []*api.Node
		pods       []*api.Pod
		pool       PoolState
		unneeded   map[string]time.Time
		wantUnneed []string
		wantRemove string
		needed     map[string]string // node -> substring of why
	}{
		{name: "idle node: unneeded from now, not removed yet",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)}, pods: []*api.Pod{busy("w1")},
			pool: pool("web", 1, 4, 2, 2, 4, 16), wantUnneed: []string{"w2"}, needed: map[string]string{"w1": "75% of its cpu"}},
		{name: "unneeded for the unneeded time: removed",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)}, pods: []*api.Pod{busy("w1"), pod("small", 500, 100, "w2")},
			pool: pool("web", 1, 4, 2, 2, 4, 16), unneeded: map[string]time.Time{"w2": t0.Add(-10 * time.Minute)},
			wantUnneed: []string{"w2"}, wantRemove: "w2"},
		{name: "never below min",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)},
			pool:  pool("web", 2, 4, 2, 2, 4, 16), unneeded: map[string]time.Time{"w1": t0.Add(-time.Hour), "w2": t0.Add(-time.Hour)},
			wantUnneed: []string{"w1", "w2"}},
		{name: "the longest unneeded goes first, one per pass",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16), node("w3", "web", 4, 16)},
			pool:  pool("web", 1, 4, 3, 3, 4, 16), unneeded: map[string]time.Time{"w1": t0.Add(-11 * time.Minute), "w3": t0.Add(-20 * time.Minute)},
			wantUnneed: []string{"w1", "w2", "w3"}, wantRemove: "w3"},
		{name: "not while the pool still adds machines",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)},
			pool:  pool("web", 1, 4, 3, 2, 4, 16), unneeded: map[string]time.Time{"w2": t0.Add(-time.Hour)},
			wantUnneed: []string{"w1", "w2"}},
		{name: "a node whose pods fit nowhere else is needed",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)}, pods: []*api.Pod{busy("w1"), pod("mid", 1900, 100, "w2")},
			pool: pool("web", 1, 4, 2, 2, 4, 16), unneeded: map[string]time.Time{"w2": t0.Add(-time.Hour)},
			needed: map[string]string{"w2": "fits on no other node"}},
		{name: "a bare pod keeps its node",
			nodes: []*api.Node{node("w1", "web", 4, 16), node("w2", "web", 4, 16)}, pods: []*api.Pod{bare},
			pool: pool("web", 1, 4, 2, 2, 4, 16), wantUnneed: []string{"w1"}, needed: map[string]string{"w2": "not managed by a controller"}},
		{name: "nodes of pools without autoscaling are left alone",
			nodes: []*api.Node{node("w1", "other", 4, 16)}, pool: pool("web", 0, 4, 0, 0, 4, 16)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanScaleDown(ScaleDownInput{Nodes: tc.nodes, Pods: tc.pods, Pools: []PoolState{tc.pool}, Unneeded: tc.unneeded,
				Now: t0, Threshold: 0.5, UnneededTime: 10 * time.Minute})
			if un := slices.Sorted(maps.Keys(got.Unneeded)); !slices.Equal(un, tc.wantUnneed) {
				t.Errorf("unneeded %v, want %v (needed: %v)", un, tc.wantUnneed, got.Needed)
			}
			for n, since := range got.Unneeded {
				if old, ok := tc.unneeded[n]; ok && !since.Equal(old) || !ok && !since.Equal(t0) {
					t.Errorf("node %s unneeded since %s; want the earlier record or now", n, since)
				}
			}
			remove := ""
			if got.Remove != nil {
				remove = got.Remove.Node
				if got.Remove.Pool != "web" || !strings.Contains(got.Remove.Message, "fit on other nodes") {
					t.Errorf("removal %+v", got.Remove)
				}
			}
			if remove != tc.wantRemove {
				t.Errorf("remove %q, want %q", remove, tc.wantRemove)
			}
			for n, want := range tc.needed {
				if !strings.Contains(got.Needed[n], want) {
					t.Errorf("node %s needed: %q, want it to say %q", n, got.Needed[n], want)
				}
			}
		})
	}
}
