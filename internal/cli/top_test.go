package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestTop(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	q := resource.MustParse
	if _, err := env.Client.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1", Labels: map[string]string{"pool": "web"}},
		Status: api.NodeStatus{Allocatable: api.ResourceList{api.ResourceCPU: q("4"), api.ResourceMemory: q("8Gi")}}}); err != nil {
		t.Fatal(err)
	}
	rep := &api.NodeMetricsReport{Node: "node-1", Timestamp: time.Now(), WindowSeconds: 10,
		Usage: api.ResourceList{api.ResourceCPU: q("1"), api.ResourceMemory: q("2Gi")}}
	for _, p := range []struct{ ns, name, app, cpu string }{{"default", "web-1", "web", "250m"}, {"default", "db", "db", "1500m"}, {"kube", "dns", "dns", "5m"}} {
		if p.ns != "default" {
			if _, err := env.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: p.ns}}); err != nil {
				t.Fatal(err)
			}
		}
		pod, err := env.Client.Pods(p.ns).Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
			Spec: api.PodSpec{NodeName: "node-1", Containers: []api.Container{{Name: "app", Image: "demo:1"}, {Name: "log", Image: "demo:1"}}}})
		if err != nil {
			t.Fatal(err)
		}
		rep.Pods = append(rep.Pods, api.PodUsage{Namespace: p.ns, Name: p.name, UID: pod.UID, Containers: []api.ContainerMetrics{
			{Name: "app", Usage: api.ResourceList{api.ResourceCPU: q(p.cpu), api.ResourceMemory: q("100Mi")}},
			{Name: "log", Usage: api.ResourceList{api.ResourceCPU: q("1m"), api.ResourceMemory: q("10Mi")}}}})
	}
	if err := env.Client.ReportNodeMetrics(ctx, rep); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"top", "pods"}, `
NAME    CPU(cores)   MEMORY(bytes)
db      1501m        110Mi
web-1   251m         110Mi`},
		{[]string{"top"}, `
NAME    CPU(cores)   MEMORY(bytes)
db      1501m        110Mi
web-1   251m         110Mi`},
		{[]string{"top", "pods", "-l", "app=web", "--containers"}, `
POD     NAME   CPU(cores)   MEMORY(bytes)
web-1   app    250m         100Mi
web-1   log    1m           10Mi`},
		{[]string{"top", "pods", "-A", "--sort-by", "cpu"}, `
NAMESPACE   NAME    CPU(cores)   MEMORY(bytes)
default     db      1501m        110Mi
default     web-1   251m         110Mi
kube        dns     6m           110Mi`},
		{[]string{"top", "pod", "web-1"}, `
NAME    CPU(cores)   MEMORY(bytes)
web-1   251m         110Mi`},
		{[]string{"top", "nodes"}, `
NAME     CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)
node-1   1000m        25%      2048Mi          25%`},
		{[]string{"top", "nodes", "-l", "pool=web"}, `
NAME     CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)
node-1   1000m        25%      2048Mi          25%`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := run(t, cfg, tc.args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
			}
			if strings.TrimSpace(out) != strings.TrimSpace(tc.want) {
				t.Errorf("maestro %s:\n%s\nwant:\n%s", strings.Join(tc.args, " "), out, strings.TrimSpace(tc.want))
			}
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"top", "pods", "nope"}, "no usage for pod default/nope yet"},
		{[]string{"top", "nodes", "-l", "pool=none"}, "no node has reported usage yet"},
		{[]string{"top", "pods", "--sort-by", "disk"}, `--sort-by "disk": must be cpu or memory`},
	} {
		_, _, err := run(t, cfg, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("maestro %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
